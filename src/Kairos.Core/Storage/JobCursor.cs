using System.Globalization;
using System.Text;
using Kairos.Core.Jobs;

namespace Kairos.Core.Storage;

/// <summary>
/// The opaque keyset cursor of job lists, the same for every store: the sort it was given out for, and the last job's
/// sort key and insertion sequence (the tie-break). A cursor is only valid with the sort it was made for.
/// </summary>
public static class JobCursor
{
    private const string Prefix = "j:";

    /// <summary>
    /// A job's sort key as the stores order by it: the insertion sequence for <see cref="JobSortKey.CreatedAt"/>,
    /// milliseconds since the epoch for times, and for a missing <c>finished_at</c> <see cref="NullKey"/>.
    /// </summary>
    public static long KeyOf(JobSort sort, Job job, long seq) => sort.Key switch
    {
        JobSortKey.CreatedAt => seq,
        JobSortKey.RunAt => job.RunAt.ToUnixTimeMilliseconds(),
        JobSortKey.FinishedAt => job.FinishedAt?.ToUnixTimeMilliseconds() ?? NullKey(sort),
        JobSortKey.Priority => job.Priority,
        JobSortKey.Attempt => job.Attempt,
        _ => throw new ArgumentOutOfRangeException(nameof(sort)),
    };

    /// <summary>The key that stands for a missing value: past every real one in the sort's direction (nulls last both ways).</summary>
    public static long NullKey(JobSort sort) => sort.Descending ? long.MinValue : long.MaxValue;

    /// <summary>
    /// How a store reads a list by finished_at in two ordered parts: the finished jobs by the time, then the unfinished
    /// ones (no finished_at: last in both directions) by creation. Whether each part is read (a state filter keeps one
    /// side), and whether the cursor is already among the unfinished (its key is <see cref="NullKey"/>).
    /// </summary>
    public static (bool Finished, bool Unfinished, bool AmongUnfinished) FinishedAtParts(ListJobsParams p, (long Key, long Seq)? cursor)
    {
        var amongUnfinished = cursor is { } at && at.Key == NullKey(p.Sort);
        var terminal = p.State?.IsTerminal();
        return (!amongUnfinished && terminal != false, terminal != true, amongUnfinished);
    }

    /// <summary>
    /// The page of the first <c>Limit</c> of the rows a store read in order (one more than the limit when there are
    /// more), with the cursor after its last job then.
    /// </summary>
    public static Page<Job> PageOf(IReadOnlyList<(Job Job, long Seq)> rows, ListJobsParams p)
    {
        if (rows.Count <= p.Limit) return new Page<Job>([.. rows.Select(x => x.Job)], null);
        var items = rows.Take(p.Limit).Select(x => x.Job).ToList();
        return new Page<Job>(items, Write(p.Sort, items[^1], rows[p.Limit - 1].Seq));
    }

    /// <summary>The cursor that continues after <paramref name="job"/> (whose insertion sequence is <paramref name="seq"/>).</summary>
    public static string Write(JobSort sort, Job job, long seq) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Prefix}{sort.ToWire()}:{KeyOf(sort, job, seq)}:{seq}")));

    /// <summary>The position a cursor continues from, or null without one; throws <see cref="ArgumentException"/> naming <c>cursor</c> otherwise.</summary>
    public static (long Key, long Seq)? Read(string? cursor, JobSort sort) =>
        TryRead(cursor, sort, out var position, out var error) ? position : throw new ArgumentException(error, nameof(cursor));

    /// <summary>As <see cref="Read"/>, with what is wrong with the cursor (a message for the <c>cursor</c> field) instead of throwing.</summary>
    public static bool TryRead(string? cursor, JobSort sort, out (long Key, long Seq)? position, out string? error)
    {
        position = null;
        error = null;
        if (string.IsNullOrEmpty(cursor)) return true;
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
        }
        catch (FormatException)
        {
            text = "";
        }
        var parts = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..].Split(':') : [];
        if (parts.Length != 3 || !JobSort.TryParse(parts[0], out var madeFor)
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            error = "is not a cursor this server gave out";
            return false;
        }
        if (madeFor != sort)
        {
            error = $"was given out for sort={madeFor.ToWire()}, not sort={sort.ToWire()}: leave it out to start this order from its first page";
            return false;
        }
        position = (key, seq);
        return true;
    }
}
