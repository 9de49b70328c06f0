using System.Globalization;

namespace Kairos.Client;

public sealed partial class KairosClient
{
    // ---- schedules ----

    public Task<Page<Schedule>> ListSchedulesAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/schedules" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosScheduleJson.Default.PageSchedule, idempotent: true, cancellationToken);

    public Task<Schedule> GetScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SchedulePath(name), null, KairosScheduleJson.Default.Schedule, idempotent: true, cancellationToken);

    /// <summary>Creates a schedule; a conflict (409) when one of that name exists.</summary>
    public Task<Schedule> CreateScheduleAsync(ScheduleDefinition schedule, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/schedules", Json(schedule, KairosScheduleJson.Default.ScheduleDefinition), KairosScheduleJson.Default.Schedule,
            idempotent: false, cancellationToken);

    /// <summary>Creates the schedule or replaces its definition (unset fields take their defaults).</summary>
    public Task<Schedule> PutScheduleAsync(string name, ScheduleDefinition schedule, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, SchedulePath(name), Json(schedule, KairosScheduleJson.Default.ScheduleDefinition), KairosScheduleJson.Default.Schedule,
            idempotent: true, cancellationToken);

    public Task DeleteScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, SchedulePath(name), null, idempotent: false, cancellationToken);

    /// <summary>Runs the schedule's job now.</summary>
    public Task<ScheduleTrigger> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SchedulePath(name) + "/trigger", null, KairosScheduleJson.Default.ScheduleTrigger, idempotent: false, cancellationToken);

    public Task<Schedule> PauseScheduleAsync(string name, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SchedulePath(name) + "/pause", Json(new PauseBody { Reason = reason }, KairosJson.Default.PauseBody),
            KairosScheduleJson.Default.Schedule, idempotent: true, cancellationToken);

    /// <summary>Resumes a paused schedule; it fires next at its first fire time from now.</summary>
    public Task<Schedule> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SchedulePath(name) + "/resume", null, KairosScheduleJson.Default.Schedule, idempotent: true, cancellationToken);

    /// <summary>The schedule's runs, newest first.</summary>
    public Task<Page<ScheduleRun>> ListScheduleRunsAsync(string name, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SchedulePath(name) + "/runs" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosScheduleJson.Default.PageScheduleRun, idempotent: true, cancellationToken);

    /// <summary>A cron expression (or an interval) in words and its next fire times; a validation error names the field.</summary>
    public Task<SchedulePreview> PreviewScheduleAsync(string? cron, string? timezone = null, long? everyMs = null, int? count = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/schedules/preview" + new Query().Add("cron", cron).Add("timezone", timezone)
                .Add("every_ms", everyMs?.ToString(CultureInfo.InvariantCulture)).Add("count", count?.ToString(CultureInfo.InvariantCulture)),
            null, KairosScheduleJson.Default.SchedulePreview, idempotent: true, cancellationToken);

    private static string SchedulePath(string name) => $"api/v1/schedules/{Uri.EscapeDataString(name)}";
}
