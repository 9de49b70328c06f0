namespace Kairos.Core.Jobs;

/// <summary>The column a job list is ordered by.</summary>
public enum JobSortKey
{
    /// <summary>Creation: the order the store recorded the jobs in (its insertion sequence).</summary>
    CreatedAt,
    RunAt,
    /// <summary>Unfinished jobs (no finished_at) come after the finished ones in both directions.</summary>
    FinishedAt,
    Priority,
    Attempt,
}

/// <summary>
/// The order of a job list: a column and a direction, written <c>created_at</c> (ascending) or <c>-created_at</c>
/// (descending). Jobs with the same value keep their creation order (the store's insertion sequence), in the same
/// direction, so every order is total and a keyset cursor walks it without skipping or repeating a job.
/// </summary>
public readonly record struct JobSort(JobSortKey Key, bool Descending)
{
    /// <summary>Newest first: the default of every list.</summary>
    public static readonly JobSort NewestFirst = new(JobSortKey.CreatedAt, Descending: true);

    public static readonly JobSort OldestFirst = new(JobSortKey.CreatedAt, Descending: false);

    /// <summary>The sortable columns' wire names, in the order of <see cref="JobSortKey"/>.</summary>
    public static IReadOnlyList<string> Names => names;

    private static readonly string[] names = ["created_at", "run_at", "finished_at", "priority", "attempt"];

    /// <summary>What a sort may be, for error messages.</summary>
    public static string Allowed => "one of " + string.Join(", ", Names) + ", each optionally prefixed with - (descending)";

    public string ToWire() => (Descending ? "-" : "") + names[(int)Key];

    public override string ToString() => ToWire();

    public static bool TryParse(string? text, out JobSort sort)
    {
        sort = NewestFirst;
        if (string.IsNullOrEmpty(text)) return false;
        var descending = text[0] == '-';
        var index = Array.IndexOf(names, descending ? text[1..] : text);
        if (index < 0) return false;
        sort = new JobSort((JobSortKey)index, descending);
        return true;
    }
}
