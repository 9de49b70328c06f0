using Kairos.Core.Jobs;

namespace Kairos.Core.Tests;

public class RetryPolicyTests
{
    [Fact]
    public void Backoff_doubles_with_each_attempt_without_jitter()
    {
        var policy = new RetryPolicy { Jitter = 0 };

        var delays = Enumerable.Range(1, 8).Select(a => policy.Backoff(a)).ToArray();

        Assert.Equal(
            [1, 2, 4, 8, 16, 32, 64, 128],
            delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public void Backoff_scales_with_the_base_delay()
    {
        var policy = new RetryPolicy { BaseDelay = TimeSpan.FromMilliseconds(250), Jitter = 0 };

        Assert.Equal(TimeSpan.FromMilliseconds(250), policy.Backoff(1));
        Assert.Equal(TimeSpan.FromMilliseconds(500), policy.Backoff(2));
        Assert.Equal(TimeSpan.FromMilliseconds(2_000), policy.Backoff(4));
    }

    [Fact]
    public void Backoff_is_capped_at_max_delay()
    {
        var policy = new RetryPolicy { MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0 };

        Assert.Equal(TimeSpan.FromSeconds(8), policy.Backoff(4));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Backoff(5));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Backoff(25));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Backoff(1_000));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Backoff(int.MaxValue));
    }

    [Fact]
    public void Default_policy_is_capped_at_one_hour_even_for_huge_attempts()
    {
        var policy = RetryPolicy.Default;

        for (var seed = 0; seed < 200; seed++)
        {
            var delay = policy.Backoff(int.MaxValue, new Random(seed));
            Assert.InRange(delay, TimeSpan.FromHours(1) * (1 - policy.Jitter) - TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void Jitter_stays_within_the_jitter_fraction(int attempt)
    {
        var policy = new RetryPolicy { Jitter = 0.2 };
        var nominal = TimeSpan.FromSeconds(Math.Pow(2, attempt - 1)).TotalMilliseconds;
        // Backoff rounds to whole milliseconds.
        var low = nominal * 0.8 - 1;
        var high = nominal * 1.2 + 1;

        for (var seed = 0; seed < 1_000; seed++)
        {
            var ms = policy.Backoff(attempt, new Random(seed)).TotalMilliseconds;
            Assert.InRange(ms, low, high);
        }
    }

    [Fact]
    public void Jitter_at_the_cap_stays_between_the_lower_bound_and_the_cap()
    {
        var policy = new RetryPolicy { MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0.5 };

        for (var seed = 0; seed < 1_000; seed++)
        {
            var ms = policy.Backoff(20, new Random(seed)).TotalMilliseconds;
            Assert.InRange(ms, 5_000 - 1, 10_000);
        }
    }

    [Fact]
    public void Jitter_actually_spreads_the_delays()
    {
        var policy = new RetryPolicy { Jitter = 0.2 };
        var random = new Random(1234);

        var delays = Enumerable.Range(0, 200).Select(_ => policy.Backoff(5, random).TotalMilliseconds).ToArray();

        // 16s ± 20%: many distinct values, on both sides of the nominal delay, covering a good part of the range.
        Assert.True(delays.Distinct().Count() > 150, $"only {delays.Distinct().Count()} distinct delays");
        Assert.Contains(delays, d => d < 16_000);
        Assert.Contains(delays, d => d > 16_000);
        Assert.True(delays.Max() - delays.Min() > 16_000 * 0.2, $"spread only {delays.Max() - delays.Min()}ms");
    }

    [Fact]
    public void Same_seed_gives_the_same_delay()
    {
        var policy = RetryPolicy.Default;

        Assert.Equal(policy.Backoff(7, new Random(99)), policy.Backoff(7, new Random(99)));
    }

    [Fact]
    public void Backoff_without_a_random_uses_the_shared_one_and_stays_in_range()
    {
        var policy = RetryPolicy.Default;

        for (var i = 0; i < 100; i++)
        {
            Assert.InRange(policy.Backoff(2).TotalMilliseconds, 1_600 - 1, 2_400 + 1);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Attempt_below_one_throws(int attempt)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RetryPolicy.Default.Backoff(attempt));
        Assert.Equal("attempt", ex.ParamName);
    }

    [Fact]
    public void Default_max_attempts_is_25()
    {
        Assert.Equal(25, RetryPolicy.DefaultMaxAttempts);
    }

    [Fact]
    public void Default_policy_starts_at_one_second_caps_at_one_hour_with_twenty_percent_jitter()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), RetryPolicy.Default.BaseDelay);
        Assert.Equal(TimeSpan.FromHours(1), RetryPolicy.Default.MaxDelay);
        Assert.Equal(0.2, RetryPolicy.Default.Jitter);
    }
}
