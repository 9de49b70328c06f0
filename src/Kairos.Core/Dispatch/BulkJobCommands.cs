using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Core.Dispatch;

/// <summary>
/// A user command (retry, cancel, delete) on many jobs: named by id, or every job matching a list filter. The work is
/// done in batches of <see cref="BatchSize"/>, each its own store call (one transaction on SQLite), so other writers get
/// their turn in between and a large bulk action never holds the store for long. By filter, the matching jobs are read
/// page by page, newest first, from where the action started: jobs that arrive while it runs are not touched, and jobs it
/// changes (a cancelled job no longer queued) do not shift the pages still to come.
/// </summary>
public sealed class BulkJobCommands(Dispatcher dispatcher)
{
    public const int BatchSize = 500;

    /// <summary>Applies the command to each of these jobs; ids of other organizations count as not found.</summary>
    public async Task<BulkOutcome> ByIdsAsync(Guid organizationId, JobCommand command, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var outcome = new BulkOutcome();
        foreach (var batch in ids.Distinct().Chunk(BatchSize))
        {
            outcome.Add(await dispatcher.CommandManyAsync(new CommandManyParams(organizationId, command, batch), cancellationToken));
        }
        return outcome;
    }

    /// <summary>Applies the command to every job that matches <paramref name="filter"/> (its limit, cursor and sort are ignored).</summary>
    public async Task<BulkOutcome> ByFilterAsync(ListJobsParams filter, JobCommand command, CancellationToken cancellationToken)
    {
        var outcome = new BulkOutcome();
        var page = filter with { Limit = BatchSize, Cursor = null, Sort = JobSort.NewestFirst };
        while (true)
        {
            var found = await dispatcher.Store.Jobs.ListAsync(page, cancellationToken);
            if (found.Items.Count > 0)
            {
                outcome.Add(await dispatcher.CommandManyAsync(
                    new CommandManyParams(filter.OrganizationId, command, [.. found.Items.Select(j => j.Id)]), cancellationToken));
            }
            if (found.NextCursor is null) return outcome;
            page = page with { Cursor = found.NextCursor };
        }
    }
}

/// <summary>What a bulk action did: jobs changed, and jobs named or matched that the command did not apply to.</summary>
public sealed class BulkOutcome
{
    /// <summary>Jobs the command changed.</summary>
    public long Count { get; private set; }
    /// <summary>Jobs whose state refused the command (a finished job cannot be cancelled, a running one not deleted).</summary>
    public long Skipped { get; private set; }
    /// <summary>Ids that name no job of the organization.</summary>
    public long NotFound { get; private set; }

    internal void Add(IReadOnlyList<CommandResult> results)
    {
        foreach (var r in results)
        {
            switch (r.Status)
            {
                case CommandStatus.Applied: Count++; break;
                case CommandStatus.NotFound: NotFound++; break;
                default: Skipped++; break;
            }
        }
    }
}
