using System.Globalization;
using Cronos;

namespace Kairos.Core.Schedules;

/// <summary>
/// When a schedule fires: a cron expression read in an IANA time zone (Cronos), or a fixed interval. All times in and
/// out are instants (UTC offsets); only the cron expression looks at local time.
/// </summary>
/// <remarks>
/// Daylight saving time follows Cronos: a local time that a spring-forward skips (02:30 in Europe/Berlin on the last
/// Sunday of March) fires once, right after the gap (03:00 local); a local time that a fall-back repeats (02:30 on the
/// last Sunday of October) fires once, at its first instance (summer time). Expressions that step through the hours
/// (<c>*/30 * * * *</c>, <c>0 * * * *</c>) keep their rhythm of real time through the repeated hour, so they fire in
/// both of its instances.
/// </remarks>
public abstract class ScheduleTiming
{
    /// <summary>The first fire time after <paramref name="after"/> (or at it, when <paramref name="inclusive"/>); null when there is none.</summary>
    public abstract DateTimeOffset? Next(DateTimeOffset after, bool inclusive);

    /// <summary>Fire times from <paramref name="from"/> (inclusive) to <paramref name="to"/> (inclusive), ascending, lazily.</summary>
    public IEnumerable<DateTimeOffset> Between(DateTimeOffset from, DateTimeOffset to)
    {
        var t = Next(from, inclusive: true);
        while (t is { } at && at <= to)
        {
            yield return at;
            t = Next(at, inclusive: false);
        }
    }

    /// <summary>The timing of a definition that was validated (throws on an invalid one).</summary>
    public static ScheduleTiming For(ScheduleDefinition d)
    {
        if (d.EveryMs is { } every) return new Interval(every, d.StartAt ?? DateTimeOffset.UnixEpoch);
        if (!TryParseCron(d.Cron, out var cron, out var error)) throw new ArgumentException($"cron: {error}", nameof(d));
        if (!TryFindTimeZone(d.TimeZone, out var zone, out error)) throw new ArgumentException($"timezone: {error}", nameof(d));
        return new Cron(cron!, zone!);
    }

    public static ScheduleTiming ForCron(CronExpression cron, TimeZoneInfo zone) => new Cron(cron, zone);

    public static ScheduleTiming ForInterval(long everyMs, DateTimeOffset anchor) => new Interval(everyMs, anchor);

    private sealed class Cron(CronExpression expression, TimeZoneInfo zone) : ScheduleTiming
    {
        // Inclusive is asked as "after one tick before": Cronos moves a time skipped by spring-forward to the end of the
        // gap only when it searches from before the gap, so an inclusive search from that moment itself would miss it.
        public override DateTimeOffset? Next(DateTimeOffset after, bool inclusive) =>
            expression.GetNextOccurrence(inclusive ? after.AddTicks(-1) : after, zone, inclusive: false)?.ToUniversalTime();
    }

    /// <summary>Every <c>everyMs</c>, at anchor + k·every for whole k (so every 15 minutes fires at :00, :15, :30, :45 UTC).</summary>
    private sealed class Interval(long everyMs, DateTimeOffset anchor) : ScheduleTiming
    {
        public override DateTimeOffset? Next(DateTimeOffset after, bool inclusive)
        {
            var since = (after - anchor).Ticks;
            var step = everyMs * TimeSpan.TicksPerMillisecond;
            if (since < 0) return anchor;
            var k = since / step;
            var at = anchor.AddTicks(k * step);
            if (at < after || at == after && !inclusive) at = at.AddTicks(step);
            return at.ToUniversalTime();
        }
    }

    // ------------------------------------------------------------------ parsing and validation

    /// <summary>The macros Cronos knows; <c>@hourly @daily @weekly @monthly @yearly</c> and a few more.</summary>
    public static readonly IReadOnlyList<string> Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every_minute", "@every_second"];

    private static readonly string[] StandardFields = ["minute", "hour", "day of month", "month", "day of week"];
    private static readonly string[] CronosFieldNames = ["Seconds", "Minutes", "Hours", "Days of month", "Months", "Days of week"];

    /// <summary>
    /// Parses 5 fields (minute precision), 6 fields (with seconds first) or a macro. On failure, <paramref name="error"/>
    /// names the field and its position in the expression, e.g. <c>field 2 (hour) "25" at position 3: must be a number
    /// between 0 and 23</c>.
    /// </summary>
    public static bool TryParseCron(string? text, out CronExpression? cron, out string? error)
    {
        cron = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is required";
            return false;
        }
        if (text.Length > 200)
        {
            error = "must be at most 200 characters";
            return false;
        }
        var fields = Fields(text);
        if (text.TrimStart().StartsWith('@'))
        {
            var macro = text.Trim();
            if (fields.Count != 1 || !Macros.Contains(macro.ToLowerInvariant()))
            {
                error = $"\"{macro}\" is not a known macro (use one of {string.Join(", ", Macros)})";
                return false;
            }
            cron = CronExpression.Parse(macro.ToLowerInvariant());
            return true;
        }
        if (fields.Count is not (5 or 6))
        {
            error = $"has {fields.Count} field{(fields.Count == 1 ? "" : "s")}; give 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or a macro such as @daily";
            return false;
        }
        var withSeconds = fields.Count == 6;
        var normalized = string.Join(' ', fields.Select(f => f.Text));
        try
        {
            cron = CronExpression.Parse(normalized, withSeconds ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            error = Describe(ex.Message, fields, withSeconds);
            return false;
        }
        return true;
    }

    private static string Describe(string message, List<(string Text, int Position)> fields, bool withSeconds)
    {
        // Cronos: "The given cron expression has an invalid format. Hours: Value must be a number between 0 and 23 (all inclusive)."
        var detail = message.Replace("The given cron expression has an invalid format.", "", StringComparison.Ordinal).Trim();
        for (var i = 0; i < CronosFieldNames.Length; i++)
        {
            var prefix = CronosFieldNames[i] + ":";
            if (!detail.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var index = withSeconds ? i : i - 1;
            if (index < 0 || index >= fields.Count) break;
            var name = withSeconds ? (index == 0 ? "second" : StandardFields[index - 1]) : StandardFields[index];
            var reason = detail[prefix.Length..].Trim().TrimEnd('.');
            reason = reason.Replace(" (all inclusive)", "", StringComparison.Ordinal);
            if (reason.StartsWith("Value ", StringComparison.Ordinal)) reason = reason["Value ".Length..];
            if (reason.Length > 0) reason = char.ToLowerInvariant(reason[0]) + reason[1..];
            return $"field {index + 1} ({name}) \"{fields[index].Text}\" at position {fields[index].Position}: {reason}";
        }
        return $"is not a valid cron expression: {detail.TrimEnd('.')}";
    }

    /// <summary>The whitespace-separated fields with their 1-based positions in the text.</summary>
    private static List<(string Text, int Position)> Fields(string text)
    {
        var list = new List<(string, int)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (i > start) list.Add((text[start..i], start + 1));
        }
        return list;
    }

    /// <summary>An IANA time zone by name (<c>Europe/Berlin</c>, <c>UTC</c>).</summary>
    public static bool TryFindTimeZone(string? id, out TimeZoneInfo? zone, out string? error)
    {
        zone = null;
        error = null;
        if (string.IsNullOrWhiteSpace(id))
        {
            error = "is required (an IANA name such as Europe/Berlin, or UTC)";
            return false;
        }
        // Names of the tz database only: letters, digits and _ + - /, no path tricks.
        if (id.Length > 64 || id.Contains("..", StringComparison.Ordinal) || id.StartsWith('/') ||
            !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-' or '/'))
        {
            error = $"\"{id}\" is not a time zone name (use an IANA name such as Europe/Berlin)";
            return false;
        }
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"unknown time zone \"{id}\" (use an IANA name such as Europe/Berlin)";
            return false;
        }
    }

    /// <summary>A duration in words: <c>15 minutes</c>, <c>1 hour</c>, <c>90 seconds</c>, <c>1500 ms</c>.</summary>
    public static string DescribeInterval(long everyMs)
    {
        static string Unit(long n, string unit) => n == 1 ? $"1 {unit}" : string.Create(CultureInfo.InvariantCulture, $"{n} {unit}s");
        if (everyMs % 86_400_000 == 0) return Unit(everyMs / 86_400_000, "day");
        if (everyMs % 3_600_000 == 0) return Unit(everyMs / 3_600_000, "hour");
        if (everyMs % 60_000 == 0) return Unit(everyMs / 60_000, "minute");
        if (everyMs % 1000 == 0) return Unit(everyMs / 1000, "second");
        return string.Create(CultureInfo.InvariantCulture, $"{everyMs} ms");
    }
}
