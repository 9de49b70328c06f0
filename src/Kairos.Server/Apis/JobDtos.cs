using Kairos.Core.Jobs;
using Kairos.Server.Http;

namespace Kairos.Server.Apis;

/// <summary>A job to enqueue. Unknown fields are ignored.</summary>
public sealed record CreateJobRequest(
    string? Queue,
    string? Type,
    RawJson? Payload,
    int? Priority,
    DateTimeOffset? RunAt,
    long? DelayMs,
    int? MaxAttempts,
    int? TimeoutMs,
    string? UniqueKey,
    List<string>? Tags)
{
    public const int MaxTimeoutMs = 7 * 24 * 3600 * 1000;

    /// <summary>Validates the request; field names are prefixed (e.g. <c>jobs[3].</c>) for bulk items.</summary>
    public NewJob? ToNewJob(string prefix, DateTimeOffset now, Validation v, int maxPayloadBytes, ref string? tooLarge)
    {
        v.Required(prefix + "queue", Queue);
        v.Name(prefix + "queue", Queue);
        v.Required(prefix + "type", Type);
        v.Name(prefix + "type", Type);
        if (RunAt is not null && DelayMs is not null) v.Add(prefix + "delay_ms", "give run_at or delay_ms, not both");
        if (DelayMs is < 0) v.Add(prefix + "delay_ms", "must not be negative");
        v.Range(prefix + "max_attempts", MaxAttempts, 1, 1000);
        v.Range(prefix + "timeout_ms", TimeoutMs, 1, MaxTimeoutMs);
        if (UniqueKey is { Length: > 512 }) v.Add(prefix + "unique_key", "must be at most 512 characters");
        if (UniqueKey is { Length: 0 }) v.Add(prefix + "unique_key", "must not be empty");
        if (Tags is { Count: > 50 }) v.Add(prefix + "tags", "at most 50 tags");
        for (var i = 0; Tags is not null && i < Tags.Count; i++)
        {
            if (Tags[i] is null) v.Add($"{prefix}tags[{i}]", "must be a string");
            else v.Name($"{prefix}tags[{i}]", Tags[i], 100);
        }
        var payload = Payload?.Text ?? "null";
        // UTF-8 takes at most 3 bytes per UTF-16 char: count bytes only when the text could be over the limit.
        if (payload.Length * 3L > maxPayloadBytes && System.Text.Encoding.UTF8.GetByteCount(payload) > maxPayloadBytes)
        {
            tooLarge ??= $"{prefix}payload is larger than {maxPayloadBytes} bytes";
        }
        if (!v.Ok || tooLarge is not null) return null;
        return new NewJob
        {
            Queue = Queue!,
            Type = Type!,
            Payload = payload,
            Priority = Priority ?? 0,
            RunAt = RunAt ?? (DelayMs is { } d ? now.AddMilliseconds(d) : null),
            MaxAttempts = MaxAttempts,
            TimeoutMs = TimeoutMs,
            UniqueKey = UniqueKey,
            Tags = Tags ?? [],
        };
    }
}

public sealed record BulkCreateJobsRequest(List<CreateJobRequest?>? Jobs);

public sealed record BulkCreateJobsResponse(IReadOnlyList<Guid> Ids);

public sealed record ProgressDto(int Percent, string? Message);

public sealed record ErrorDto(string Message, string? Type, string? Stack)
{
    public static ErrorDto? From(JobError? e) => e is null ? null : new ErrorDto(e.Message, e.Type, e.Stack);
}

public sealed record AttemptDto(int Number, Guid? WorkerId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Outcome, ErrorDto? Error);

public sealed record LogLineDto(DateTimeOffset At, string Line);

/// <summary>One line of <c>GET /jobs/{id}/logs</c>: its id (increasing within the job), the attempt that wrote it.</summary>
public sealed record JobLogEntryDto(long Id, int Attempt, DateTimeOffset At, string Line);

/// <summary>A page of a job's log, with the job's state as it was before the lines were read.</summary>
public sealed record JobLogsResponse(IReadOnlyList<JobLogEntryDto> Items, string? NextCursor, string JobState);

/// <summary>A job as the API shows it.</summary>
public sealed record JobDto(
    Guid Id,
    string Queue,
    string Type,
    RawJson Payload,
    string State,
    int Priority,
    DateTimeOffset RunAt,
    int Attempt,
    int MaxAttempts,
    int? TimeoutMs,
    string? UniqueKey,
    IReadOnlyList<string> Tags,
    RawJson? Result,
    ProgressDto? Progress,
    bool CancelRequested,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    Guid? WorkerId,
    DateTimeOffset? LeaseExpiresAt,
    ErrorDto? LastError,
    IReadOnlyList<AttemptDto>? Attempts,
    IReadOnlyList<LogLineDto>? Logs,
    bool? Deduplicated,
    Guid? WorkflowId,
    string? WorkflowStep)
{
    public static JobDto From(Job j, bool full = false, bool? deduplicated = null) => new(
        j.Id, j.Queue, j.Type, new RawJson(j.Payload), j.State.ToWire(), j.Priority, j.RunAt, j.Attempt, j.MaxAttempts, j.TimeoutMs,
        j.UniqueKey, j.Tags, j.Result is null ? null : new RawJson(j.Result),
        j.Progress is null ? null : new ProgressDto(j.Progress.Percent, j.Progress.Message),
        j.CancelRequested, j.CreatedAt, j.StartedAt, j.FinishedAt, j.WorkerId, j.LeaseExpiresAt, ErrorDto.From(j.LastError),
        full ? j.Attempts.Select(a => new AttemptDto(a.Number, a.WorkerId, a.StartedAt, a.FinishedAt, a.Outcome, ErrorDto.From(a.Error))).ToList() : null,
        full ? j.Logs.Select(l => new LogLineDto(l.At, l.Line)).ToList() : null,
        deduplicated, j.WorkflowId, j.WorkflowStep);
}

public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);
