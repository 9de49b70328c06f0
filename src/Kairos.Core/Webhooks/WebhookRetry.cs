namespace Kairos.Core.Webhooks;

/// <summary>
/// How webhook deliveries are retried: after 1, 2, 4, ... minutes, capped at 4 hours, 14 attempts in all: the last one
/// about 24 hours after the first. An endpoint whose deliveries all failed for <see cref="DisableAfter"/> is disabled.
/// </summary>
public static class WebhookRetry
{
    public const int MaxAttempts = 14;
    public static readonly TimeSpan DisableAfter = TimeSpan.FromDays(3);
    private static readonly TimeSpan Base = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Cap = TimeSpan.FromHours(4);

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based).</summary>
    public static TimeSpan Delay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ms = Base.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, Cap.TotalMilliseconds));
    }

    /// <summary>The time from the first attempt to the last, when every one fails.</summary>
    public static TimeSpan Span => TimeSpan.FromTicks(Enumerable.Range(1, MaxAttempts - 1).Sum(a => Delay(a).Ticks));
}
