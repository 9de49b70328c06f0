using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Bench;

/// <summary>A target from the issue: a bound on one figure, met when <see cref="Met"/> says so.</summary>
public sealed record Target(string Text, double Bound, bool AtLeast)
{
    public bool Met(double value) => AtLeast ? value >= Bound : value <= Bound;

    public static Target Min(double bound, string text) => new(text, bound, AtLeast: true);
    public static Target Max(double bound, string text) => new(text, bound, AtLeast: false);
}

/// <summary>The targets on a 2-core machine, as the issue states them. A row without a target is informational.</summary>
public static class Targets
{
    public static readonly Target EnqueueSingle = Target.Min(36_000, "≥ 36,000 jobs/s");
    public static readonly Target EnqueueVsBullMq = Target.Min(1.2, "≥ 1.2× BullMQ add");
    public static readonly Target Bulk = Target.Min(150_000, "≥ 150,000 jobs/s");
    public static readonly Target BurndownBatch = Target.Min(40_000, "≥ 40,000 jobs/s");
    /// <summary>Issue 5: batch burndown with PostgreSQL on the same 2-core machine.</summary>
    public static readonly Target BurndownBatchPostgres = Target.Min(10_000, "≥ 10,000 jobs/s");
    /// <summary>Issue 6: the SDK's worker host, as a ratio to the raw batch workers of the same run.</summary>
    public static readonly Target SdkWorkerVsRaw = Target.Min(0.8, "≤ 20% slower than the raw protocol workers");
    public static readonly Target BurndownBatchVsPeer = Target.Min(1.5, "≥ 1.5×");
    public static readonly Target BurndownSingle = Target.Min(5_000, "≥ 5,000 jobs/s");
    public static readonly Target LatencyIdleP50 = Target.Max(1, "p50 ≤ 1 ms");
    public static readonly Target LatencyIdleP99 = Target.Max(5, "p99 ≤ 5 ms");
    public static readonly Target LatencyLoadedP50 = Target.Max(5, "p50 ≤ 5 ms");
    public static readonly Target LatencyLoadedP99 = Target.Max(50, "p99 ≤ 50 ms");
    public static readonly Target WorkersAssignmentP99 = Target.Max(100, "p99 ≤ 100 ms");
    public static readonly Target MemoryIdle = Target.Max(80, "≤ 80 MiB RSS");
    public static readonly Target ListingP95 = Target.Max(100, "p95 ≤ 100 ms");
    public static readonly Target VsHangfirePostgresThroughput = Target.Min(20, "≥ 20× throughput");
    public static readonly Target VsHangfirePostgresLatency = Target.Min(5, "≥ 5× lower p50");

    /// <summary>The batch burndown's target for the store measured.</summary>
    public static Target BurndownBatchFor(string store) => store == "postgres" ? BurndownBatchPostgres : BurndownBatch;

    /// <summary>The table of the issues, printed with every run; the PostgreSQL burndown target with <c>--store postgres</c>.</summary>
    public static IEnumerable<(string Scenario, string Target)> TableFor(string store) => store == "postgres"
        ? Table.Take(2).Append(("burndown, batch (PostgreSQL)", "≥ 10,000 jobs/s")).Concat(Table.Skip(2))
        : Table;

    public static readonly (string Scenario, string Target)[] Table =
    [
        ("enqueue, single", "≥ 36,000 jobs/s (≥ 1.2× BullMQ's add)"),
        ("bulk", "≥ 150,000 jobs/s"),
        ("burndown, batch (SQLite)", "≥ 40,000 jobs/s (≥ 1.5× BullMQ and Hangfire.InMemory)"),
        ("burndown, SDK worker host", "≤ 20% slower than the raw protocol workers (batch)"),
        ("burndown, one job per call", "≥ 5,000 jobs/s"),
        ("latency idle", "p50 ≤ 1 ms, p99 ≤ 5 ms"),
        ("latency at half load", "p50 ≤ 5 ms, p99 ≤ 50 ms"),
        ("workers (100 long-polling)", "assignment p99 ≤ 100 ms"),
        ("memory idle", "≤ 80 MiB RSS"),
        ("listing with 1M finished jobs", "p95 ≤ 100 ms"),
        ("vs Hangfire.PostgreSql (durable)", "≥ 20× throughput, ≥ 5× lower p50 latency"),
    ];
}

public enum Verdict
{
    Pass,
    Fail,
    Info,
    Skipped,
}

/// <summary>One line of the results: a figure, its target if it has one, and the verdict.</summary>
public sealed record Row(string Scenario, string Metric, double? Value, string Unit, string? Target, Verdict Verdict, string? Note = null)
{
    public string Measured => Value is { } v ? Format(v, Unit) : "—";

    public static Row Measure(string scenario, string metric, double value, string unit, Target? target = null, string? note = null) =>
        new(scenario, metric, value, unit, target?.Text, target is null ? Verdict.Info : target.Met(value) ? Verdict.Pass : Verdict.Fail, note);

    public static Row Skip(string scenario, string metric, string why, Target? target = null) =>
        new(scenario, metric, null, "", target?.Text, Verdict.Skipped, why);

    public static string Format(double v, string unit) => unit switch
    {
        "jobs/s" => $"{v.ToString("N0", CultureInfo.InvariantCulture)} jobs/s",
        "ms" => $"{v.ToString(v < 10 ? "0.00" : v < 100 ? "0.0" : "N0", CultureInfo.InvariantCulture)} ms",
        "MiB" => $"{v.ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        "%" => $"{v.ToString("0", CultureInfo.InvariantCulture)} % of a core",
        "x" => $"{v.ToString("0.00", CultureInfo.InvariantCulture)}×",
        "" => v.ToString("N0", CultureInfo.InvariantCulture),
        _ => $"{v.ToString("0.##", CultureInfo.InvariantCulture)} {unit}",
    };
}

/// <summary>Collects rows, prints them, and writes the JSON and markdown files.</summary>
public sealed class ResultSet
{
    private readonly List<Row> _rows = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<Row> Rows => _rows;
    public IReadOnlyList<string> Notes => _notes;

    public void Add(Row row)
    {
        lock (_rows) _rows.Add(row);
        Console.WriteLine($"  {row.Scenario,-22} {row.Metric,-40} {row.Measured,-22} {row.Target ?? "",-22} {Word(row.Verdict)}{(row.Note is null ? "" : "  (" + row.Note + ")")}");
    }

    public void Note(string text)
    {
        lock (_notes) _notes.Add(text);
        Console.WriteLine("  note: " + text);
    }

    public static string Word(Verdict v) => v switch
    {
        Verdict.Pass => "pass",
        Verdict.Fail => "FAIL",
        Verdict.Skipped => "skipped",
        _ => "",
    };

    public string Table()
    {
        var sb = new StringBuilder();
        var w1 = Math.Max(8, _rows.Max(r => r.Scenario.Length));
        var w2 = Math.Max(6, _rows.Max(r => r.Metric.Length));
        var w3 = Math.Max(8, _rows.Max(r => r.Measured.Length));
        var w4 = Math.Max(6, _rows.Max(r => (r.Target ?? "").Length));
        sb.AppendLine($"{"scenario".PadRight(w1)}  {"metric".PadRight(w2)}  {"measured".PadRight(w3)}  {"target".PadRight(w4)}  result");
        sb.AppendLine(new string('-', w1 + w2 + w3 + w4 + 16));
        foreach (var r in _rows)
        {
            sb.Append($"{r.Scenario.PadRight(w1)}  {r.Metric.PadRight(w2)}  {r.Measured.PadRight(w3)}  {(r.Target ?? "").PadRight(w4)}  {Word(r.Verdict)}");
            if (r.Note is not null) sb.Append("  " + r.Note);
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public string Markdown(RunInfo info)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"### Kairos benchmark, {info.Date} ({info.Commit}{(info.Quick ? ", --quick: a smoke check, not a measurement" : "")})");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {info.Cores} cores ({info.Cpu}), {info.MemoryGiB} GiB; the server, the load generator, the workers and the peers share them. {info.Runtime}, Kairos store: {info.Store}.");
        sb.AppendLine();
        sb.AppendLine("| scenario | metric | measured | target | result |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            var note = r.Note is null ? "" : $" ({r.Note.Replace("|", "\\|", StringComparison.Ordinal)})";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Metric}{note} | {r.Measured} | {r.Target ?? ""} | {Word(r.Verdict)} |");
        }
        if (_notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var n in _notes) sb.AppendLine(CultureInfo.InvariantCulture, $"- {n}");
        }
        return sb.ToString();
    }

    public string Json(RunInfo info) => JsonSerializer.Serialize(new
    {
        info,
        rows = _rows.Select(r => new { r.Scenario, r.Metric, r.Value, r.Unit, measured = r.Measured, r.Target, verdict = r.Verdict.ToString().ToLowerInvariant(), r.Note }),
        notes = _notes,
    }, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

public sealed record RunInfo(string Date, string Commit, bool Quick, int Cores, string Cpu, int MemoryGiB, string Runtime, string Store, string Arguments, double DurationSeconds);
