using System.Globalization;

namespace Kairos.Core.Schedules;

/// <summary>
/// A cron expression in plain English, e.g. <c>0 9 * * 1-5</c> → "At 09:00, Monday through Friday". Modest: the common
/// shapes (single values, lists, ranges, steps, L and #) read naturally, anything else is named field by field.
/// Expects an expression that <see cref="ScheduleTiming.TryParseCron"/> accepted.
/// </summary>
public static class CronDescription
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly string[] Months = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] MonthNames = ["", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] Ordinals = ["", "first", "second", "third", "fourth", "fifth"];

    public static string Describe(string cron)
    {
        var text = cron.Trim();
        switch (text.ToLowerInvariant())
        {
            case "@yearly" or "@annually": return "At 00:00 on January 1";
            case "@monthly": return "At 00:00 on day 1 of the month";
            case "@weekly": return "At 00:00, only on Sunday";
            case "@daily" or "@midnight": return "At 00:00, every day";
            case "@hourly": return "Every hour";
            case "@every_minute": return "Every minute";
            case "@every_second": return "Every second";
        }
        var f = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var sec = f.Length == 6 ? f[0] : "0";
        var o = f.Length == 6 ? 1 : 0;
        var parts = new List<string> { Time(sec, f[o], f[o + 1]) };
        if (DayOfMonth(f[o + 2]) is { } dom) parts.Add(dom);
        if (DayOfWeek(f[o + 4]) is { } dow) parts.Add(dow);
        if (Month(f[o + 3]) is { } month) parts.Add(month);
        if (parts.Count == 1 && IsAny(f[o + 2]) && IsAny(f[o + 3]) && IsAny(f[o + 4]) && IsNumber(f[o]) && IsNumber(f[o + 1]) && IsNumber(sec))
        {
            parts.Add("every day");
        }
        return string.Join(", ", parts);
    }

    private static string Time(string sec, string min, string hour)
    {
        if (IsNumber(sec) && IsNumber(min) && IsNumber(hour))
        {
            return "At " + Clock(N(hour), N(min), N(sec));
        }
        if (IsNumber(sec) && IsNumber(min) && IsList(hour, out var hours) && hours.All(IsNumber))
        {
            return "At " + And(hours.Select(h => Clock(N(h), N(min), N(sec))));
        }
        string? secondsClause = null;
        if (!(IsNumber(sec) && N(sec) == 0))
        {
            secondsClause = sec == "*" ? "Every second"
                : Step(sec, out var from, out var every) ? $"Every {every} seconds" + (from > 0 ? $", starting at second {from}" : "")
                : IsNumber(sec) ? $"At {N(sec)} seconds past the minute"
                : $"At second{(sec.Contains(',') || sec.Contains('-') ? "s" : "")} {Values(sec, n => n.ToString(CultureInfo.InvariantCulture))} past the minute";
        }
        string minutes;
        if (min == "*") minutes = secondsClause is null ? "Every minute" : "";
        else if (Step(min, out var mFrom, out var mEvery)) minutes = $"Every {mEvery} minutes" + (mFrom > 0 ? $", starting at minute {mFrom}" : "");
        else if (IsNumber(min)) minutes = N(min) == 0 && hour == "*" && secondsClause is null ? "Every hour" : $"At {N(min)} minutes past the hour";
        else if (Range(min, out var a, out var b)) minutes = $"Every minute from {a} through {b} past the hour";
        else minutes = $"At {Values(min, n => n.ToString(CultureInfo.InvariantCulture))} minutes past the hour";

        string? hoursClause = null;
        if (hour != "*")
        {
            hoursClause = IsNumber(hour) ? $"between {Clock(N(hour), 0)} and {Clock(N(hour), 59)}"
                : Range(hour, out var h1, out var h2) ? $"between {Clock(h1, 0)} and {Clock(h2, 59)}"
                : Step(hour, out var hFrom, out var hEvery) ? $"every {hEvery} hours" + (hFrom > 0 ? $", starting at {Clock(hFrom, 0)}" : "")
                : $"during the hours {Values(hour, h => Clock(h, 0))}";
        }
        var clauses = new[] { secondsClause, minutes.Length > 0 ? minutes : null, hoursClause }.Where(c => c is not null).ToList();
        var first = clauses[0]!;
        return string.Join(", ", clauses.Skip(1).Select(c => c!.StartsWith("Every", StringComparison.Ordinal) || c.StartsWith("At", StringComparison.Ordinal)
            ? char.ToLowerInvariant(c[0]) + c[1..]
            : c).Prepend(first));
    }

    private static string? DayOfMonth(string dom)
    {
        if (IsAny(dom)) return null;
        if (dom.Equals("L", StringComparison.OrdinalIgnoreCase)) return "on the last day of the month";
        if (dom.Equals("LW", StringComparison.OrdinalIgnoreCase)) return "on the last weekday of the month";
        if (dom.EndsWith('W') && int.TryParse(dom[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var w)) return $"on the weekday nearest day {w} of the month";
        if (IsNumber(dom)) return $"on day {N(dom)} of the month";
        if (Range(dom, out var a, out var b)) return $"between day {a} and {b} of the month";
        if (Step(dom, out var from, out var every)) return $"every {every} days" + (from > 1 ? $", starting on day {from} of the month" : "");
        return $"on days {Values(dom, n => n.ToString(CultureInfo.InvariantCulture))} of the month";
    }

    private static string? DayOfWeek(string dow)
    {
        if (IsAny(dow)) return null;
        var hash = dow.IndexOf('#');
        if (hash > 0 && DayNumber(dow[..hash]) is { } d && int.TryParse(dow[(hash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var nth) && nth is >= 1 and <= 5)
        {
            return $"on the {Ordinals[nth]} {Days[d]} of the month";
        }
        if (dow.EndsWith('L') && DayNumber(dow[..^1]) is { } last) return $"on the last {Days[last]} of the month";
        if (DayNumber(dow) is { } single) return $"only on {Days[single]}";
        var dash = dow.IndexOf('-');
        if (dash > 0 && !dow.Contains(',') && !dow.Contains('/') && DayNumber(dow[..dash]) is { } x && DayNumber(dow[(dash + 1)..]) is { } y)
        {
            return $"{Days[x]} through {Days[y]}";
        }
        var items = dow.Split(',');
        if (items.All(i => DayNumber(i) is not null)) return "only on " + And(items.Select(i => Days[DayNumber(i)!.Value]));
        return $"on days of the week {dow}";
    }

    private static string? Month(string month)
    {
        if (IsAny(month)) return null;
        if (MonthNumber(month) is { } single) return $"only in {Months[single]}";
        var dash = month.IndexOf('-');
        if (dash > 0 && !month.Contains(',') && !month.Contains('/') && MonthNumber(month[..dash]) is { } a && MonthNumber(month[(dash + 1)..]) is { } b)
        {
            return $"{Months[a]} through {Months[b]}";
        }
        if (Step(month, out var from, out var every)) return $"every {every} months" + (from > 1 ? $", starting in {Months[from]}" : "");
        var items = month.Split(',');
        if (items.All(i => MonthNumber(i) is not null)) return "only in " + And(items.Select(i => Months[MonthNumber(i)!.Value]));
        return $"in months {month}";
    }

    private static bool IsAny(string f) => f is "*" or "?";

    private static bool IsNumber(string f) => int.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static int N(string f) => int.Parse(f, NumberStyles.None, CultureInfo.InvariantCulture);

    private static bool IsList(string f, out string[] items)
    {
        items = f.Split(',');
        return items.Length > 1;
    }

    private static bool Range(string f, out int a, out int b)
    {
        a = b = 0;
        var dash = f.IndexOf('-');
        return dash > 0 && !f.Contains(',') && !f.Contains('/') &&
               int.TryParse(f[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out a) &&
               int.TryParse(f[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out b);
    }

    /// <summary><c>*/15</c> or <c>5/15</c>.</summary>
    private static bool Step(string f, out int from, out int every)
    {
        from = every = 0;
        var slash = f.IndexOf('/');
        if (slash <= 0 || f.Contains(',') || !int.TryParse(f[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out every)) return false;
        var start = f[..slash];
        return start == "*" || int.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out from);
    }

    private static string Values(string f, Func<int, string> show) =>
        And(f.Split(',').Select(item => Range(item, out var a, out var b) ? $"{show(a)} through {show(b)}" : IsNumber(item) ? show(N(item)) : item));

    private static int? DayNumber(string s)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n is >= 0 and <= 7 ? n : null;
        var i = Array.FindIndex(DayNames, d => d.Equals(s, StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? i : null;
    }

    private static int? MonthNumber(string s)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n is >= 1 and <= 12 ? n : null;
        var i = Array.FindIndex(MonthNames, m => m.Length > 0 && m.Equals(s, StringComparison.OrdinalIgnoreCase));
        return i >= 1 ? i : null;
    }

    private static string Clock(int hour, int minute, int second = 0) =>
        second == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{hour:00}:{minute:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{hour:00}:{minute:00}:{second:00}");

    private static string And(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Join("", list) : string.Join(", ", list.Take(list.Count - 1)) + " and " + list[^1];
    }
}
