using System.Globalization;
using System.Text;
using Kairos.Core.Schedules;

namespace Kairos.Core.Storage;

/// <summary>
/// The opaque cursors of named lists such as schedules and monitors (after a name) and run histories (before a run id), the same for every store.
/// A cursor that is not one of these throws <see cref="ArgumentException"/> naming <c>cursor</c>.
/// </summary>
public static class ScheduleCursor
{
    public static string? Read(string? cursor) => Decode(cursor, "n:");

    public static long? ReadSeq(string? cursor) =>
        Decode(cursor, "r:") is { } text ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : throw Invalid() : null;

    /// <summary>A page of a list read with one item more than <paramref name="limit"/>: the extra item says there is a next page.</summary>
    public static Page<T> Page<T>(List<T> items, int limit, Func<T, string> key) =>
        items.Count <= limit ? new Page<T>(items, null) : new Page<T>(items[..limit], Encode("n:" + key(items[limit - 1])));

    public static Page<ScheduleRun> PageBySeq(List<ScheduleRun> runs, int limit) => PageBySeq(runs, limit, r => r.Id);

    /// <summary>A page of a history read newest first with one item more than <paramref name="limit"/>, continued before the last item's sequence number.</summary>
    public static Page<T> PageBySeq<T>(List<T> items, int limit, Func<T, long> seq) =>
        items.Count <= limit
            ? new Page<T>(items, null)
            : new Page<T>(items[..limit], Encode("r:" + seq(items[limit - 1]).ToString(CultureInfo.InvariantCulture)));

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string? Decode(string? cursor, string prefix)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith(prefix, StringComparison.Ordinal)) return text[prefix.Length..];
        }
        catch (FormatException)
        {
        }
        throw Invalid();
    }

    private static ArgumentException Invalid() => new("The cursor is not one this server gave out.", "cursor");
}
