using Kairos.Core.Metrics;

namespace Kairos.Core.Storage;

/// <summary>
/// The metrics rollup: per organization, queue and minute, the counts of job transitions, the leader's depth and
/// oldest-age samples and a run-time histogram (<see cref="MetricRow"/>). It outlives the jobs it counts and has its
/// own retention (<see cref="PruneAsync"/>).
/// </summary>
public interface IMetricsStore
{
    /// <summary>
    /// Adds the rows' counts and run times to what the store holds for their (organization, queue, minute), creating
    /// rows as needed (upsert-add: several nodes add their own counts to the same minute); a row's depth and oldest age,
    /// when set, replace the stored samples. All rows in one transaction.
    /// </summary>
    Task AddAsync(AddMetricsParams p, CancellationToken cancellationToken);

    /// <summary>All organizations: every known queue's number of queued jobs and the run_at of its oldest (0 and null when empty).</summary>
    Task<IReadOnlyList<QueueSample>> SampleQueuesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One point per step of <see cref="MetricSeriesParams.StepMs"/> from <see cref="MetricSeriesParams.From"/> (a step
    /// starts at From + k × step) up to <see cref="MetricSeriesParams.To"/> (excluded), oldest first, for the steps that
    /// have rows; counts are summed over minutes and queues, depth is summed over the queues of each minute and the
    /// largest of the minutes is kept, oldest age is the largest, run times are merged. With
    /// <see cref="MetricSeriesParams.ByQueue"/>, one point per queue and step (each naming its queue), ordered by queue
    /// then step, for the queues that have rows in the range.
    /// </summary>
    Task<IReadOnlyList<MetricPoint>> SeriesAsync(MetricSeriesParams p, CancellationToken cancellationToken);

    /// <summary>Deletes up to <see cref="PruneMetricsParams.Limit"/> rows of minutes before <see cref="PruneMetricsParams.Before"/>; answers how many.</summary>
    Task<int> PruneAsync(PruneMetricsParams p, CancellationToken cancellationToken);
}

public sealed record AddMetricsParams(IReadOnlyList<MetricRow> Rows);

/// <param name="Queue">One queue; null: all queues of the organization.</param>
/// <param name="ByQueue">A series per queue rather than one summed over them.</param>
public sealed record MetricSeriesParams(Guid OrganizationId, string? Queue, DateTimeOffset From, DateTimeOffset To, long StepMs, bool ByQueue = false);

public sealed record PruneMetricsParams(DateTimeOffset Before, int Limit = 10_000);
