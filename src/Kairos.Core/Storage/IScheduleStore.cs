using Kairos.Core.Jobs;
using Kairos.Core.Schedules;

namespace Kairos.Core.Storage;

/// <summary>
/// Schedules and their runs. Firing is exactly once per fire time: in one transaction a store claims the run of the
/// fire time (unique per schedule and fire time), enqueues its job and advances the schedule's next fire time, all as
/// <see cref="SchedulePlanner"/> decides from the row it read. A second firing pass (a restart, another node that
/// believes it leads) finds the fire time claimed or the next fire time moved on, and does nothing.
/// </summary>
public interface IScheduleStore
{
    /// <summary>Creates a schedule; null when the organization already has one of that name.</summary>
    Task<Schedule?> CreateAsync(CreateScheduleParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a schedule's definition (and its pause state, when given); null when there is none of that name. The next
    /// fire time is kept unless the timing changed (<see cref="SchedulePlanner.Reschedule"/>).
    /// </summary>
    Task<Schedule?> UpdateAsync(UpdateScheduleParams p, CancellationToken cancellationToken);

    Task<Schedule?> GetAsync(ScheduleParams p, CancellationToken cancellationToken);

    /// <summary>The organization's schedules by name.</summary>
    Task<Page<Schedule>> ListAsync(ListSchedulesParams p, CancellationToken cancellationToken);

    /// <summary>Deletes a schedule and its run history (its jobs stay); false when there is none of that name.</summary>
    Task<bool> DeleteAsync(ScheduleParams p, CancellationToken cancellationToken);

    /// <summary>Pauses or resumes; a resumed schedule fires next at its first fire time from now (what it missed while paused does not run). Null when unknown.</summary>
    Task<Schedule?> SetPausedAsync(PauseScheduleParams p, CancellationToken cancellationToken);

    /// <summary>Runs the schedule's template now (a manual run, whatever the overlap policy and pause); null when unknown.</summary>
    Task<ScheduleFiring?> TriggerAsync(ScheduleParams p, CancellationToken cancellationToken);

    /// <summary>The schedule's runs, newest first, each with its job as it is now; null when the schedule is unknown.</summary>
    Task<Page<ScheduleRun>?> ListRunsAsync(ListScheduleRunsParams p, CancellationToken cancellationToken);

    /// <summary>Maintenance, all organizations: the schedules whose next fire time has come (not paused), earliest first.</summary>
    Task<IReadOnlyList<DueSchedule>> ListDueAsync(ListDueSchedulesParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Maintenance: fires one schedule in one transaction, as <see cref="SchedulePlanner.Plan"/> decides from the row read
    /// there (locked against other firings). Null when it is no longer due: fired meanwhile, paused or deleted.
    /// </summary>
    Task<ScheduleFiring?> FireAsync(FireScheduleParams p, CancellationToken cancellationToken);

    /// <summary>The earliest next fire time of a schedule that is not paused, across all organizations.</summary>
    Task<DateTimeOffset?> NextFireAsync(CancellationToken cancellationToken);
}

public sealed record CreateScheduleParams(Guid OrganizationId, ScheduleDefinition Definition, bool Paused = false, string? PauseReason = null);

/// <param name="Paused">Null keeps the pause state as it is.</param>
public sealed record UpdateScheduleParams(Guid OrganizationId, ScheduleDefinition Definition, bool? Paused = null, string? PauseReason = null);

public sealed record ScheduleParams(Guid OrganizationId, string Name);

public sealed record ListSchedulesParams(Guid OrganizationId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

public sealed record PauseScheduleParams(Guid OrganizationId, string Name, bool Paused, string? Reason);

public sealed record ListScheduleRunsParams(Guid OrganizationId, string Name)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

public sealed record ListDueSchedulesParams(int Limit = 100);
public sealed record DueSchedule(Guid OrganizationId, Guid ScheduleId, DateTimeOffset NextFireAt);

/// <param name="MisfireTolerance">Null: <see cref="SchedulePlanner.MisfireTolerance"/>.</param>
public sealed record FireScheduleParams(Guid OrganizationId, Guid ScheduleId, TimeSpan? MisfireTolerance = null);

/// <summary>What one firing of one schedule did, for events and wake-ups.</summary>
/// <param name="Runs">The runs made, in fire time order.</param>
/// <param name="Misfire">Fire times missed by more than the tolerance, or null.</param>
/// <param name="Cancelled">Previous runs cancelled by the replace policy.</param>
/// <param name="NextFireAt">The next fire time after this firing.</param>
public sealed record ScheduleFiring(
    Guid OrganizationId,
    Guid ScheduleId,
    string Name,
    CatchUpPolicy CatchUp,
    IReadOnlyList<FiredRun> Runs,
    Misfire? Misfire,
    IReadOnlyList<JobChange> Cancelled,
    DateTimeOffset? NextFireAt);

/// <summary>One run made by a firing: a job, a workflow instance, or a fire time skipped (by the overlap policy, or for want of its workflow template).</summary>
/// <param name="Late">A missed fire time run as catch-up.</param>
/// <param name="Replaced">The previous run's job (or workflow) that the replace policy cancelled for this one.</param>
/// <param name="Workflow">The workflow instance it created, with its steps (a workflow schedule).</param>
/// <param name="SkipReason"><c>overlap</c>, or <c>template_missing</c> when the workflow template is gone.</param>
public sealed record FiredRun(DateTimeOffset FireTime, bool Manual, Job? Job, bool Skipped, bool Late, Guid? Replaced,
    Workflows.Workflow? Workflow = null, string? SkipReason = null);
