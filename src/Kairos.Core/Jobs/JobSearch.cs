using System.Text;

namespace Kairos.Core.Jobs;

/// <summary>
/// Full-text search over jobs: what a query means, the same on every store. A job's searchable text is its id, type,
/// tags, payload and last error message, read as words: runs of letters and digits, compared without case (so
/// <c>ada@example.com</c> is the words <c>ada</c>, <c>example</c>, <c>com</c>, and a job id its five groups of hex
/// digits). A query is words too; a job matches when each query word begins a word of the job's text
/// (<c>inv</c> finds <c>invoice</c>; a whole id finds its job).
/// </summary>
public static class JobSearch
{
    public const int MaxTerms = 16;
    public const int MaxTermLength = 64;

    /// <summary>The query's words, lower-cased and distinct, at most <see cref="MaxTerms"/> of them (longer ones cut to <see cref="MaxTermLength"/>).</summary>
    public static IReadOnlyList<string> Terms(string query)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in query.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                word.Append(rune.ToString().ToLowerInvariant());
                continue;
            }
            Add(terms, word);
        }
        Add(terms, word);
        return terms;
    }

    private static void Add(List<string> terms, StringBuilder word)
    {
        if (word.Length == 0) return;
        var text = word.Length > MaxTermLength ? word.ToString(0, MaxTermLength) : word.ToString();
        word.Clear();
        if (terms.Count < MaxTerms && !terms.Contains(text, StringComparer.Ordinal)) terms.Add(text);
    }

    /// <summary>An FTS5 MATCH expression: every term as a prefix (terms hold letters and digits only, so nothing needs quoting).</summary>
    public static string Fts5Match(IReadOnlyList<string> terms) =>
        string.Join(' ', terms.Select(t => "\"" + t + "\"*"));

    /// <summary>A PostgreSQL tsquery text for <c>to_tsquery('simple', ...)</c>: every term as a prefix, all required.</summary>
    public static string TsQuery(IReadOnlyList<string> terms) =>
        string.Join(" & ", terms.Select(t => t + ":*"));
}
