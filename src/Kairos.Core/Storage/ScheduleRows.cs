using System.Data.Common;
using Kairos.Core.Schedules;

namespace Kairos.Core.Storage;

/// <summary>
/// The columns of the schedules table, the same in every store, and a schedule read from a row selected with
/// <see cref="Columns"/>: ids as uuid (or UUID text), times as unix milliseconds, flags as boolean (or 0/1).
/// </summary>
public static class ScheduleRows
{
    public const string Columns =
        "id, organization_id, name, cron, every_ms, timezone, template_kind, template, overlap, catch_up, catch_up_limit, jitter_ms, " +
        "start_at, end_at, paused, pause_reason, next_fire_at, last_fire_at, last_job_id, created_at, updated_at, last_workflow_id";

    public static Schedule Read(DbDataReader r)
    {
        var (job, workflow) = ScheduleDefinition.ReadTemplate(r.GetString(6), r.GetString(7));
        return Read(r, job, workflow);
    }

    private static Schedule Read(DbDataReader r, JobTemplate? job, string? workflow) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Definition = new ScheduleDefinition
        {
            Name = r.GetString(2),
            Cron = r.IsDBNull(3) ? null : r.GetString(3),
            EveryMs = r.IsDBNull(4) ? null : r.GetInt64(4),
            TimeZone = r.GetString(5),
            Job = job,
            Workflow = workflow,
            Overlap = ScheduleNames.ParseOverlap(r.GetString(8)),
            CatchUp = ScheduleNames.ParseCatchUp(r.GetString(9)),
            CatchUpLimit = r.GetInt32(10),
            JitterMs = r.GetInt32(11),
            StartAt = TimeOrNull(r, 12),
            EndAt = TimeOrNull(r, 13),
        },
        Paused = r.GetBoolean(14),
        PauseReason = r.IsDBNull(15) ? null : r.GetString(15),
        NextFireAt = TimeOrNull(r, 16),
        LastFireAt = TimeOrNull(r, 17),
        LastJobId = r.IsDBNull(18) ? null : r.GetGuid(18),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(19)),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(20)),
        LastWorkflowId = r.IsDBNull(21) ? null : r.GetGuid(21),
    };

    /// <summary>The columns of a run: <c>seq, fire_time, manual, skipped, job_id, created_at, workflow_id</c>.</summary>
    public const string RunColumns = "seq, fire_time, manual, skipped, job_id, created_at, workflow_id";

    /// <summary>A run read from a row selected with <see cref="RunColumns"/>, without its job.</summary>
    public static ScheduleRun ReadRun(DbDataReader r) => new(
        r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetBoolean(2), r.GetBoolean(3),
        r.IsDBNull(4) ? null : r.GetGuid(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), null, r.IsDBNull(6) ? null : r.GetGuid(6));

    /// <summary>The runs with their jobs (those still there), ready to page.</summary>
    public static List<ScheduleRun> WithJobs(List<ScheduleRun> runs, IEnumerable<Jobs.Job> jobs)
    {
        var byId = jobs.ToDictionary(j => j.Id);
        return runs.ConvertAll(r => r.JobId is { } id && byId.TryGetValue(id, out var job) ? r with { Job = job } : r);
    }

    /// <summary>The ids of the runs' workflow instances, to load them with <see cref="WithWorkflows"/>.</summary>
    public static List<Guid> WorkflowIds(List<ScheduleRun> runs) => [.. runs.Where(r => r.WorkflowId is not null).Select(r => r.WorkflowId!.Value)];

    /// <summary>The runs with their workflow instances (those still there).</summary>
    public static List<ScheduleRun> WithWorkflows(List<ScheduleRun> runs, IEnumerable<Workflows.Workflow> workflows)
    {
        var byId = workflows.ToDictionary(w => w.Id);
        return runs.ConvertAll(r => r.WorkflowId is { } id && byId.TryGetValue(id, out var w) ? r with { Workflow = w } : r);
    }

    private static DateTimeOffset? TimeOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
}
