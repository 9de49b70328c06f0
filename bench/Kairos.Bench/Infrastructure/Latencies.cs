using System.Diagnostics;
using HdrHistogram;

namespace Kairos.Bench.Infrastructure;

/// <summary>
/// A latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 10 minutes). Percentiles come from
/// it, never from averages. Thread-safe recording (a lock: the rates here are well below its cost).
/// </summary>
public sealed class Latencies
{
    private readonly LongHistogram _h = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);

    public long Count { get { lock (_h) return _h.TotalCount; } }

    public void RecordMicros(long micros)
    {
        lock (_h) _h.RecordValue(Math.Clamp(micros, 0, _h.HighestTrackableValue));
    }

    /// <summary>Records the time from a <see cref="Stopwatch.GetTimestamp"/> value until now.</summary>
    public void RecordSince(long startTimestamp) => RecordMicros((long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);

    public void Add(Latencies other)
    {
        LongHistogram copy;
        lock (other._h) copy = (LongHistogram)other._h.Copy();
        lock (_h) _h.Add(copy);
    }

    /// <summary>The percentile in milliseconds (0 when empty).</summary>
    public double Ms(double percentile)
    {
        lock (_h) return _h.TotalCount == 0 ? 0 : _h.GetValueAtPercentile(percentile) / 1000.0;
    }

    public double MaxMs
    {
        get { lock (_h) return _h.TotalCount == 0 ? 0 : _h.GetMaxValue() / 1000.0; }
    }

    public string Summary() => Count == 0
        ? "no samples"
        : $"n={Count:N0} p50={Ms(50):0.00} ms p90={Ms(90):0.00} ms p99={Ms(99):0.00} ms max={MaxMs:0.00} ms";

    /// <summary>Reads samples (one microsecond value per line) written by a worker process.</summary>
    public static Latencies FromFile(string path)
    {
        var l = new Latencies();
        if (!File.Exists(path)) return l;
        foreach (var line in File.ReadLines(path))
        {
            if (long.TryParse(line, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)) l.RecordMicros(v);
        }
        return l;
    }
}
