using System.Text.Json.Nodes;

namespace Kairos.Core.Manifests;

/// <summary>What a manifest declares. Alert channels are not a kind: their secrets do not belong in a Git repository.</summary>
public enum ManifestKind
{
    Queue,
    Schedule,
    Monitor,
    AlertRule,
    Workflow,
}

public static class ManifestKinds
{
    /// <summary>The <c>kind</c> of a manifest document, in the order of <see cref="ManifestKind"/>.</summary>
    public static readonly IReadOnlyList<string> Wire = ["Queue", "Schedule", "Monitor", "AlertRule", "Workflow"];

    public static string ToWire(this ManifestKind kind) => Wire[(int)kind];

    public static bool TryParse(string? text, out ManifestKind kind)
    {
        for (var i = 0; i < Wire.Count; i++)
        {
            if (string.Equals(Wire[i], text, StringComparison.Ordinal))
            {
                kind = (ManifestKind)i;
                return true;
            }
        }
        kind = default;
        return false;
    }
}

/// <summary>The marker of objects a manifest created or took over (the <c>managed_by</c> column); null: managed by hand.</summary>
public static class ManagedBy
{
    public const string Manifest = "manifest";
}

/// <summary>Where a node of a YAML document began: 1-based line and column.</summary>
public readonly record struct SourceMark(int Line, int Column);

/// <summary>
/// One manifest document as JSON (<c>apiVersion</c>, <c>kind</c>, <c>metadata.name</c>, <c>spec</c>) and, when it was
/// read from a file, where each of its nodes began, by path (<c>spec.job.queue</c>, <c>spec.tags[1]</c>).
/// </summary>
/// <param name="Source">The file name, or <c>manifests[i]</c> for a document that came over the API.</param>
public sealed record ManifestDocument(string Source, JsonNode? Root, IReadOnlyDictionary<string, SourceMark> Marks)
{
    public const string ApiVersion = "kairos/v1";

    /// <summary>
    /// Where the field at <paramref name="path"/> is: <c>file:line:column</c> of the node (or of its nearest ancestor in the
    /// file when it is missing) for a file, else <c>manifests[i].path</c>.
    /// </summary>
    public string Locate(string path)
    {
        if (Marks.Count == 0) return path.Length == 0 ? Source : $"{Source}.{path}";
        for (var p = path; ; p = Parent(p))
        {
            if (Marks.TryGetValue(p, out var m)) return $"{Source}:{m.Line}:{m.Column}";
            if (p.Length == 0) return Source;
        }
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut < 0 ? "" : path[..cut];
    }
}

/// <summary>One problem of a manifest: where (<c>file:line:column</c>, or <c>manifests[i].spec.cron</c>), the field, and what is wrong.</summary>
public sealed record ManifestError(string Location, string Field, string Message)
{
    public override string ToString() => Field.Length == 0 ? $"{Location}: {Message}" : $"{Location}: {Field}: {Message}";
}
