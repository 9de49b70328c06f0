using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Server.Http;

/// <summary>The API's JSON: snake_case names, RFC 3339 UTC times with milliseconds.</summary>
public static class Json
{
    public static void Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.Converters.Add(new UtcTimeConverter());
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.NumberHandling = JsonNumberHandling.Strict;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(o);
        return o;
    }

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String &&
                DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            {
                return t.ToUniversalTime();
            }
            throw new JsonException("must be an RFC 3339 time, e.g. 2026-11-23T05:43:26.123Z");
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        {
            // Formatted into the stack, not a string: a fetched job carries three times, a fetch up to 1,000 jobs.
            Span<byte> utf8 = stackalloc byte[32];
            if (value.UtcDateTime.TryFormat(utf8, out var written, TimeFormat, CultureInfo.InvariantCulture))
            {
                writer.WriteStringValue(utf8[..written]);
            }
            else
            {
                writer.WriteStringValue(Format(value)); // a year past 9999 cannot happen; kept exact all the same
            }
        }
    }
}

/// <summary>JSON text stored as it came (payloads, results), written back without re-parsing.</summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly record struct RawJson(string Text)
{
    private sealed class RawJsonConverter : JsonConverter<RawJson>
    {
        public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            return new RawJson(doc.RootElement.GetRawText());
        }

        public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.Text, skipInputValidation: true);
    }
}
