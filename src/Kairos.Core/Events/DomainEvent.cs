using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Core.Events;

/// <summary>The one envelope of every domain event (SSE, WebSocket, webhooks).</summary>
/// <param name="Id">Monotonic within a server process; resumable with Last-Event-ID.</param>
public sealed record DomainEvent(long Id, string Type, DateTimeOffset Time, Guid OrganizationId, object Data);

/// <summary>The data of a job event.</summary>
public sealed record JobEventData(
    Guid JobId,
    string Queue,
    string Type,
    string State,
    string? PreviousState,
    int Attempt,
    Guid? WorkerId,
    DateTimeOffset? RunAt,
    JobError? Error,
    JobProgress? Progress);

public sealed record QueueEventData(string Queue, string? Reason = null, long? Count = null);

public sealed record WorkerEventData(Guid WorkerId, string Name, string? Host);

public static class EventTypes
{
    /// <summary>The event type of a job transition: <c>job.enqueued</c>, <c>job.started</c>, <c>job.succeeded</c>, ...</summary>
    public static string For(JobChange change)
    {
        if (change.Removed) return "job.deleted";
        if (change.CancelRequested && change.To == JobState.Running) return "job.cancel_requested";
        return change.To switch
        {
            JobState.Running when change.From == JobState.Running => "job.progress",
            JobState.Running => "job.started",
            JobState.Queued when change.From is null => "job.enqueued",
            JobState.Queued when change.From is JobState.Failed or JobState.Cancelled => "job.retried",
            JobState.Queued => "job.queued",
            JobState.Scheduled => "job.scheduled",
            JobState.Pending => "job.pending",
            JobState.Retrying => "job.retrying",
            JobState.Succeeded => "job.succeeded",
            JobState.Failed => "job.failed",
            JobState.Cancelled => "job.cancelled",
            _ => "job.changed",
        };
    }

    public static JobEventData Data(JobChange c) =>
        new(c.JobId, c.Queue, c.Type, c.To.ToWire(), c.From?.ToWire(), c.Attempt, c.WorkerId, c.RunAt, c.Error, c.Progress);
}
