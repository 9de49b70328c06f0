namespace Kairos.Core.Jobs;

/// <summary>
/// Exponential backoff with jitter and a cap: attempt n waits <c>base · 2^(n-1)</c>, capped, then spread by ±<see cref="Jitter"/>
/// so that jobs that failed together do not come back together.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>25 attempts, as Sidekiq and Faktory.</summary>
    public const int DefaultMaxAttempts = 25;

    public static RetryPolicy Default { get; } = new();

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Fraction of the delay added or removed at random (0.2 = ±20%).</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>The wait before the attempt that follows failed attempt number <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan Backoff(int attempt, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var exponent = Math.Min(attempt - 1, 62);
        var raw = BaseDelay.TotalMilliseconds * Math.Pow(2, exponent);
        var capped = Math.Min(raw, MaxDelay.TotalMilliseconds);
        var spread = ((random ?? Random.Shared).NextDouble() * 2 - 1) * Jitter;
        var ms = Math.Clamp(capped * (1 + spread), 0, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Round(ms));
    }
}
