using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kairos.Core.Metrics;

/// <summary>
/// Run times of job attempts as a log-scale histogram: bucket 0 holds runs under 1 ms, bucket <c>i</c> ≥ 1 the runs of
/// [2^((i-1)/8), 2^(i/8)) ms, so a bucket is about 9% wide and a percentile read from it is within about 5% of the
/// true value, whatever the spread. Histograms of different nodes, queues and minutes add up bucket by bucket, which
/// is what makes them storable per minute and mergeable into hours and days (a list of samples would not be).
/// Stored as a JSON object of bucket index to count (<c>{"80":12,"81":3}</c>); empty buckets are left out.
/// </summary>
public sealed class RunTimeHistogram
{
    /// <summary>Sub-buckets per doubling.</summary>
    public const int Resolution = 8;
    /// <summary>The last bucket: runs of 2^40 ms (about 35 years) and longer fall in it.</summary>
    public const int MaxIndex = 40 * Resolution + 1;

    private readonly SortedDictionary<int, long> _counts = [];

    public long Count { get; private set; }

    public bool IsEmpty => Count == 0;

    public IReadOnlyDictionary<int, long> Buckets => _counts;

    public static int IndexOf(double ms)
    {
        if (!(ms >= 1)) return 0; // also NaN and negative (a clock step back)
        var index = 1 + (int)Math.Floor(Math.Log2(ms) * Resolution);
        return Math.Min(index, MaxIndex);
    }

    /// <summary>The value a bucket stands for: the geometric middle of its range (0 for bucket 0).</summary>
    public static double ValueOf(int index) => index <= 0 ? 0 : Math.Pow(2, (index - 0.5) / Resolution);

    public void Add(double ms) => Add(IndexOf(ms), 1);

    public void Add(int index, long count)
    {
        if (count <= 0) return;
        index = Math.Clamp(index, 0, MaxIndex);
        _counts[index] = _counts.GetValueOrDefault(index) + count;
        Count += count;
    }

    public void Add(RunTimeHistogram other)
    {
        foreach (var (index, count) in other._counts) Add(index, count);
    }

    /// <summary>The value below which <paramref name="percentile"/> (0-100) of the runs fall; null when empty.</summary>
    public double? Percentile(double percentile)
    {
        if (Count == 0) return null;
        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100 * Count);
        if (rank < 1) rank = 1;
        long seen = 0;
        foreach (var (index, count) in _counts)
        {
            seen += count;
            if (seen >= rank) return ValueOf(index);
        }
        return ValueOf(_counts.Keys.Last());
    }

    public string ToJson()
    {
        var sb = new StringBuilder("{");
        foreach (var (index, count) in _counts)
        {
            if (sb.Length > 1) sb.Append(',');
            sb.Append('"').Append(index.ToString(CultureInfo.InvariantCulture)).Append("\":").Append(count.ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append('}').ToString();
    }

    /// <summary>Reads <see cref="ToJson"/>'s form; entries that are not bucket/count pairs are skipped.</summary>
    public static RunTimeHistogram FromJson(string? json)
    {
        var h = new RunTimeHistogram();
        if (string.IsNullOrEmpty(json)) return h;
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return h;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && p.Value.TryGetInt64(out var count)) h.Add(index, count);
        }
        return h;
    }
}
