using System.Text;

namespace Kairos.Core.Jobs;

/// <summary>
/// Full-text search over jobs: what a query means, the same on every store. A job's searchable text is its id, type,
/// tags, payload and last error message, read as words: runs of letters and digits, compared without case (so
/// <c>ada@example.com</c> is the words <c>ada</c>, <c>example</c>, <c>com</c>, and a job id its five groups of hex
/// digits). A query is words too; a job matches when it has each of them as a whole word, in any order; a query word
/// that ends in <c>*</c> matches the words it begins (<c>inv*</c> finds <c>invoice</c>). Whole words are the default
/// because they stay fast on a word every job has (a prefix of such a word has the index merge every word it begins
/// before the first page: 0.7 s instead of 10 ms over 1,000,000 jobs on SQLite).
/// </summary>
public static class JobSearch
{
    public const int MaxTerms = 16;
    public const int MaxTermLength = 64;

    /// <summary>
    /// The query's words, lower-cased and distinct, at most <see cref="MaxTerms"/> of them (longer ones cut to
    /// <see cref="MaxTermLength"/>); a word that was followed by <c>*</c> keeps it (a prefix).
    /// </summary>
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
            Add(terms, word, prefix: rune.Value == '*');
        }
        Add(terms, word, prefix: false);
        return terms;
    }

    private static void Add(List<string> terms, StringBuilder word, bool prefix)
    {
        if (word.Length == 0) return;
        var text = (word.Length > MaxTermLength ? word.ToString(0, MaxTermLength) : word.ToString()) + (prefix ? "*" : "");
        word.Clear();
        if (terms.Count < MaxTerms && !terms.Contains(text, StringComparer.Ordinal)) terms.Add(text);
    }

    private static bool IsPrefix(string term) => term.EndsWith('*');

    private static string Word(string term) => IsPrefix(term) ? term[..^1] : term;

    /// <summary>An FTS5 MATCH expression: every term as a phrase, prefixes with <c>*</c> (terms hold letters and digits only, so nothing needs quoting).</summary>
    public static string Fts5Match(IReadOnlyList<string> terms) =>
        string.Join(' ', terms.Select(t => "\"" + Word(t) + "\"" + (IsPrefix(t) ? "*" : "")));

    /// <summary>A PostgreSQL tsquery text for <c>to_tsquery('simple', ...)</c>: all terms required, prefixes with <c>:*</c>.</summary>
    public static string TsQuery(IReadOnlyList<string> terms) =>
        string.Join(" & ", terms.Select(t => Word(t) + (IsPrefix(t) ? ":*" : "")));
}
