using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kairos.Core.Manifests;

/// <summary>
/// Reads manifest files: YAML, several documents per file (<c>---</c>), each turned into JSON with the position of every
/// node kept, so that an error names <c>file:line:column</c>. Plain scalars are typed as YAML 1.2's core schema says
/// (<c>null</c>, <c>true</c>, <c>42</c>, <c>1.5</c>); quoted ones are strings.
/// </summary>
public static partial class ManifestParser
{
    /// <summary>The manifest files of a path: the file itself, or every <c>*.yaml</c> and <c>*.yml</c> under a folder, in name order.</summary>
    public static IReadOnlyList<string> Files(string path)
    {
        if (File.Exists(path)) return [path];
        if (!Directory.Exists(path)) throw new FileNotFoundException($"No file or folder '{path}'.", path);
        return [.. Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Reads every manifest file of <paramref name="path"/> (see <see cref="Files"/>).</summary>
    public static (List<ManifestDocument> Documents, List<ManifestError> Errors) Load(string path)
    {
        var documents = new List<ManifestDocument>();
        var errors = new List<ManifestError>();
        foreach (var file in Files(path))
        {
            var (d, e) = Parse(file, File.ReadAllText(file));
            documents.AddRange(d);
            errors.AddRange(e);
        }
        return (documents, errors);
    }

    /// <summary>The documents of one file's text; a syntax error ends the file with one error at its position.</summary>
    public static (List<ManifestDocument> Documents, List<ManifestError> Errors) Parse(string source, string text)
    {
        var documents = new List<ManifestDocument>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            var message = (ex.InnerException?.Message ?? ex.Message).Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ');
            return (documents, [new ManifestError($"{source}:{ex.Start.Line}:{ex.Start.Column}", "", "not valid YAML: " + message)]);
        }
        catch (InvalidOperationException ex)
        {
            // The scanner throws this (without a position) on a few malformed inputs, such as an unclosed flow sequence.
            return (documents, [new ManifestError(source, "", "not valid YAML: " + ex.Message)]);
        }
        foreach (var doc in stream.Documents)
        {
            // An empty document (a trailing "---", a file of comments) declares nothing.
            if (doc.RootNode is YamlScalarNode { Value: null or "" } s && s.Style == ScalarStyle.Plain) continue;
            var marks = new Dictionary<string, SourceMark>(StringComparer.Ordinal);
            documents.Add(new ManifestDocument(source, ToJson(doc.RootNode, "", marks), marks));
        }
        return (documents, []);
    }

    private static JsonNode? ToJson(YamlNode node, string path, Dictionary<string, SourceMark> marks)
    {
        marks[path] = new SourceMark((int)node.Start.Line, (int)node.Start.Column);
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = key is YamlScalarNode k ? k.Value ?? "" : key.ToString();
                    obj[name] = ToJson(value, path.Length == 0 ? name : $"{path}.{name}", marks);
                }
                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                for (var i = 0; i < seq.Children.Count; i++) arr.Add(ToJson(seq.Children[i], $"{path}[{i}]", marks));
                return arr;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    private static JsonValue? Scalar(YamlScalarNode s)
    {
        var text = s.Value ?? "";
        if (s.Style != ScalarStyle.Plain || (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific)) return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (IntPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(text);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
