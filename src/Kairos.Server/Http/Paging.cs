using System.Text;

namespace Kairos.Server.Http;

/// <summary>
/// Cursor pagination for lists that are small enough to be read whole (queues, workers, API keys): items are ordered
/// by a unique key and the cursor is the opaque form of the last key of a page.
/// </summary>
public static class Paging
{
    public static (IReadOnlyList<T> Items, string? NextCursor) Page<T>(
        IEnumerable<T> items, Func<T, string> key, bool descending, int limit, string? after)
    {
        var ordered = descending
            ? items.OrderByDescending(key, StringComparer.Ordinal)
            : items.OrderBy(key, StringComparer.Ordinal);
        var rest = after is null
            ? ordered.AsEnumerable()
            : ordered.Where(i => descending ? string.CompareOrdinal(key(i), after) < 0 : string.CompareOrdinal(key(i), after) > 0);
        var page = rest.Take(limit + 1).ToList();
        if (page.Count <= limit) return (page, null);
        page.RemoveAt(limit);
        return (page, Encode(key(page[^1])));
    }

    /// <summary>Reads <c>limit</c> and <c>cursor</c>, adding field errors to <paramref name="v"/>.</summary>
    public static (int Limit, string? After) Read(string? limit, string? cursor, Validation v)
    {
        var n = Apis.JobsApi.ParseLimit(limit, v);
        if (cursor is null or "") return (n, null);
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith("k:", StringComparison.Ordinal)) return (n, text[2..]);
        }
        catch (FormatException)
        {
        }
        v.Add("cursor", "is not a cursor this server gave out");
        return (n, null);
    }

    private static string Encode(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes("k:" + key));
}
