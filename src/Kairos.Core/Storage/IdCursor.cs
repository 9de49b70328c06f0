using System.Text;

namespace Kairos.Core.Storage;

/// <summary>
/// The opaque cursor of lists ordered by a time-sortable id (incidents, webhook endpoints and deliveries): the id of the
/// last item of the page. A cursor that is not one of these throws <see cref="ArgumentException"/> naming <c>cursor</c>.
/// </summary>
public static class IdCursor
{
    public static Guid? Read(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith("i:", StringComparison.Ordinal) && Guid.TryParse(text.AsSpan(2), out var id)) return id;
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("The cursor is not one this server gave out.", nameof(cursor));
    }

    /// <summary>A page of a list read with one item more than <paramref name="limit"/>: the extra item says there is a next page.</summary>
    public static Page<T> Page<T>(List<T> items, int limit, Func<T, Guid> id) =>
        items.Count <= limit
            ? new Page<T>(items, null)
            : new Page<T>(items[..limit], Convert.ToBase64String(Encoding.UTF8.GetBytes("i:" + id(items[limit - 1]).ToString())));
}
