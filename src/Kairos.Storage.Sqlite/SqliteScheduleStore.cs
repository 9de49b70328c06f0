using System.Text;
using Kairos.Core.Jobs;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Schedules on SQLite. Every change goes through the single writer, so a firing reads the schedule, claims the run of
/// each fire time (unique index), enqueues the jobs and advances next_fire_at in one transaction that nothing else
/// interleaves with.
/// </summary>
internal sealed class SqliteScheduleStore(SqliteStore store) : IScheduleStore
{
    private const string Columns = ScheduleRows.Columns;

    private static Schedule Read(SqliteDataReader r) => ScheduleRows.Read(r);

    private static Schedule? Find(WriteContext ctx, string org, string name)
    {
        using var r = ctx.Cmd($"SELECT {Columns} FROM schedules WHERE organization_id = $org AND name = $name").Set("$org", org).Set("$name", name).ExecuteReader();
        return r.Read() ? Read(r) : null;
    }

    /// <summary>Writes every column of the definition (with $id, $org, $now, $next set by the caller).</summary>
    private static SqliteCommand SetDefinition(SqliteCommand cmd, ScheduleDefinition d) =>
        cmd.Set("$name", d.Name).Set("$cron", d.Cron).Set("$every", d.EveryMs).Set("$tz", d.TimeZone).Set("$kind", d.TemplateKind.ToWire())
            .Set("$template", d.TemplateJson()).Set("$overlap", d.Overlap.ToWire()).Set("$catch_up", d.CatchUp.ToWire()).Set("$limit", d.CatchUpLimit)
            .Set("$jitter", d.JitterMs).Set("$start", d.StartAt is { } s ? Ms(s) : null).Set("$end", d.EndAt is { } e ? Ms(e) : null);

    public Task<Schedule?> CreateAsync(CreateScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Create(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static Schedule? Create(WriteContext ctx, CreateScheduleParams p)
    {
        var org = p.OrganizationId.ToString();
        var now = ctx.Now;
        var cmd = ctx.Cmd(
            "INSERT INTO schedules (id, organization_id, name, cron, every_ms, timezone, template_kind, template, overlap, catch_up, catch_up_limit, " +
            "jitter_ms, start_at, end_at, paused, pause_reason, next_fire_at, created_at, updated_at) VALUES ($id, $org, $name, $cron, $every, $tz, $kind, " +
            "$template, $overlap, $catch_up, $limit, $jitter, $start, $end, $paused, $reason, $next, $now, $now) " +
            "ON CONFLICT (organization_id, name) DO NOTHING");
        SetDefinition(cmd, p.Definition).Set("$id", Kairos.Core.Ids.New(ctx.Time).ToString()).Set("$org", org).Set("$paused", p.Paused ? 1 : 0)
            .Set("$reason", p.Paused ? p.PauseReason : null).Set("$next", SchedulePlanner.FirstFire(p.Definition, now) is { } n ? Ms(n) : null)
            .Set("$now", Ms(now));
        return cmd.ExecuteNonQuery() == 0 ? null : Find(ctx, org, p.Definition.Name);
    }

    public Task<Schedule?> UpdateAsync(UpdateScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Update(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static Schedule? Update(WriteContext ctx, UpdateScheduleParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Find(ctx, org, p.Definition.Name) is not { } current) return null;
        var now = ctx.Now;
        var paused = p.Paused ?? current.Paused;
        var next = current.Paused && !paused ? SchedulePlanner.FirstFire(p.Definition, now) : SchedulePlanner.Reschedule(current, p.Definition, now);
        var cmd = ctx.Cmd(
            "UPDATE schedules SET cron = $cron, every_ms = $every, timezone = $tz, template_kind = $kind, template = $template, overlap = $overlap, " +
            "catch_up = $catch_up, catch_up_limit = $limit, jitter_ms = $jitter, start_at = $start, end_at = $end, paused = $paused, " +
            "pause_reason = $reason, next_fire_at = $next, updated_at = $now WHERE id = $id AND name = $name");
        SetDefinition(cmd, p.Definition).Set("$id", current.Id.ToString()).Set("$paused", paused ? 1 : 0)
            .Set("$reason", paused ? (p.Paused is null ? current.PauseReason : p.PauseReason) : null)
            .Set("$next", next is { } n ? Ms(n) : null).Set("$now", Ms(now)).ExecuteNonQuery();
        return Find(ctx, org, p.Definition.Name);
    }

    public Task<Schedule?> GetAsync(ScheduleParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM schedules WHERE organization_id = $org AND name = $name";
            using var r = cmd.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteReader();
            return r.Read() ? Read(r) : null;
        }, cancellationToken);

    public Task<Page<Schedule>> ListAsync(ListSchedulesParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        return store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM schedules WHERE organization_id = $org AND name > $after ORDER BY name LIMIT $n";
            cmd.Set("$org", p.OrganizationId.ToString()).Set("$after", after ?? "").Set("$n", p.Limit + 1);
            var items = new List<Schedule>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(Read(r));
            return ScheduleCursor.Page(items, p.Limit, s => s.Name);
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(ScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Delete(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static bool Delete(WriteContext ctx, ScheduleParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Find(ctx, org, p.Name) is not { } s) return false;
        ctx.Cmd("DELETE FROM schedule_runs WHERE schedule_id = $id").Set("$id", s.Id.ToString()).ExecuteNonQuery();
        ctx.Cmd("DELETE FROM schedules WHERE id = $id").Set("$id", s.Id.ToString()).ExecuteNonQuery();
        return true;
    }

    public Task<Schedule?> SetPausedAsync(PauseScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            if (Find(ctx, org, p.Name) is not { } s) return null;
            // Resuming starts from now: what fell due while paused does not run.
            var next = !p.Paused && s.Paused ? SchedulePlanner.FirstFire(s.Definition, ctx.Now) : s.NextFireAt;
            ctx.Cmd("UPDATE schedules SET paused = $paused, pause_reason = $reason, next_fire_at = $next, updated_at = $now WHERE id = $id")
                .Set("$paused", p.Paused ? 1 : 0).Set("$reason", p.Paused ? p.Reason : null).Set("$next", next is { } n ? Ms(n) : null)
                .Set("$now", Ms(ctx.Now)).Set("$id", s.Id.ToString()).ExecuteNonQuery();
            return Find(ctx, org, p.Name);
        }, cancellationToken);

    public Task<ScheduleFiring?> TriggerAsync(ScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            if (Find(ctx, p.OrganizationId.ToString(), p.Name) is not { } s) return null;
            return Completed(ScheduleFirings.TriggerAsync(s, ctx.Now, new Session(ctx, s), CancellationToken.None));
        }, cancellationToken);

    public Task<IReadOnlyList<DueSchedule>> ListDueAsync(ListDueSchedulesParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<DueSchedule>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT organization_id, id, next_fire_at FROM schedules WHERE paused = 0 AND next_fire_at IS NOT NULL AND next_fire_at <= $now " +
                              "ORDER BY next_fire_at LIMIT $n";
            cmd.Set("$now", Ms(store.Time.GetUtcNow())).Set("$n", p.Limit);
            var due = new List<DueSchedule>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) due.Add(new DueSchedule(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), Time(r.GetInt64(2))));
            return due;
        }, cancellationToken);

    public Task<ScheduleFiring?> FireAsync(FireScheduleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            Schedule s;
            using (var r = ctx.Cmd($"SELECT {Columns} FROM schedules WHERE id = $id AND organization_id = $org")
                       .Set("$id", p.ScheduleId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteReader())
            {
                if (!r.Read()) return null;
                s = Read(r);
            }
            var now = ctx.Now;
            if (s.Paused || s.NextFireAt is not { } next || next > now) return null;
            var plan = SchedulePlanner.Plan(s, now, p.MisfireTolerance);
            return Completed(ScheduleFirings.FireAsync(s, plan, new Session(ctx, s), CancellationToken.None));
        }, cancellationToken);

    public Task<DateTimeOffset?> NextFireAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT MIN(next_fire_at) FROM schedules WHERE paused = 0 AND next_fire_at IS NOT NULL";
            return cmd.ExecuteScalar() is long ms ? Time(ms) : (DateTimeOffset?)null;
        }, cancellationToken);

    public Task<Page<ScheduleRun>?> ListRunsAsync(ListScheduleRunsParams p, CancellationToken cancellationToken)
    {
        var before = ScheduleCursor.ReadSeq(p.Cursor);
        return store.ReadAsync<Page<ScheduleRun>?>(c =>
        {
            var org = p.OrganizationId.ToString();
            string scheduleId;
            using (var find = c.CreateCommand())
            {
                find.CommandText = "SELECT id FROM schedules WHERE organization_id = $org AND name = $name";
                if (find.Set("$org", org).Set("$name", p.Name).ExecuteScalar() is not string id) return null;
                scheduleId = id;
            }
            var runs = new List<ScheduleRun>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = $"SELECT {ScheduleRows.RunColumns} FROM schedule_runs WHERE schedule_id = $id AND seq < $before ORDER BY seq DESC LIMIT $n";
                cmd.Set("$id", scheduleId).Set("$before", before ?? long.MaxValue).Set("$n", p.Limit + 1);
                using var r = cmd.ExecuteReader();
                while (r.Read()) runs.Add(ScheduleRows.ReadRun(r));
            }
            var jobs = new List<Job>();
            var ids = runs.Where(r => r.JobId is not null).Select(r => r.JobId!.Value.ToString()).ToList();
            if (ids.Count > 0)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT {JobColumns} FROM jobs WHERE organization_id = $org AND id IN (SELECT value FROM json_each($ids))";
                cmd.Set("$org", org).Set("$ids", System.Text.Json.JsonSerializer.Serialize(ids));
                using var r = cmd.ExecuteReader();
                while (r.Read()) jobs.Add(Job(r));
            }
            var workflows = new List<Kairos.Core.Workflows.Workflow>();
            var workflowIds = ScheduleRows.WorkflowIds(runs);
            if (workflowIds.Count > 0)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT {WorkflowRows.Columns} FROM workflows WHERE organization_id = $org AND id IN (SELECT value FROM json_each($ids))";
                cmd.Set("$org", org).Set("$ids", System.Text.Json.JsonSerializer.Serialize(workflowIds.ConvertAll(w => w.ToString())));
                using var r = cmd.ExecuteReader();
                while (r.Read()) workflows.Add(WorkflowRows.Read(r));
            }
            return ScheduleCursor.PageBySeq(ScheduleRows.WithWorkflows(ScheduleRows.WithJobs(runs, jobs), workflows), p.Limit);
        }, cancellationToken);
    }

    private static T Completed<T>(Task<T> task) =>
        // The session's steps run on the writer's connection without awaiting anything: the firing is done when it returns.
        task.IsCompleted ? task.GetAwaiter().GetResult() : throw new InvalidOperationException("A SQLite firing must complete synchronously.");

    /// <summary>The firing's writes, on the writer's connection inside its transaction.</summary>
    private sealed class Session(WriteContext ctx, Schedule s) : IFiringSession
    {
        private readonly string _org = s.OrganizationId.ToString();

        public ValueTask<long?> ClaimRunAsync(DateTimeOffset fireTime, bool manual, CancellationToken cancellationToken)
        {
            var seq = ctx.Cmd("INSERT INTO schedule_runs (organization_id, schedule_id, fire_time, manual, created_at) VALUES ($org, $id, $fire, $manual, $now) " +
                              "ON CONFLICT (schedule_id, fire_time) WHERE manual = 0 DO NOTHING RETURNING seq")
                .Set("$org", _org).Set("$id", s.Id.ToString()).Set("$fire", Ms(fireTime)).Set("$manual", manual ? 1 : 0).Set("$now", Ms(ctx.Now))
                .ExecuteScalar();
            return ValueTask.FromResult(seq is long l ? l : (long?)null);
        }

        public ValueTask<JobState?> JobStateAsync(Guid jobId, CancellationToken cancellationToken)
        {
            var state = ctx.Cmd("SELECT state FROM jobs WHERE id = $id AND organization_id = $org").Set("$id", jobId.ToString()).Set("$org", _org).ExecuteScalar();
            return ValueTask.FromResult(state is string text ? JobStates.Parse(text) : (JobState?)null);
        }

        public ValueTask<JobChange?> CancelAsync(Guid jobId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SqliteJobStore.Cancel(ctx, new JobCommandParams(s.OrganizationId, jobId)).Change);

        public ValueTask<Job> EnqueueAsync(NewJob job, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SqliteJobStore.Insert(ctx, s.OrganizationId, job).Job);

        public ValueTask<WorkflowTemplate?> WorkflowTemplateAsync(string name, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SqliteWorkflowTemplateStore.Find(ctx.Connection, _org, name));

        public ValueTask<WorkflowState?> WorkflowStateAsync(Guid workflowId, CancellationToken cancellationToken)
        {
            using var r = ctx.Cmd($"SELECT {WorkflowRows.Columns} FROM workflows WHERE id = $id AND organization_id = $org")
                .Set("$id", workflowId.ToString()).Set("$org", _org).ExecuteReader();
            return ValueTask.FromResult(r.Read() ? WorkflowRows.Read(r).State : (WorkflowState?)null);
        }

        public ValueTask<IReadOnlyList<JobChange>> CancelWorkflowAsync(Guid workflowId, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<JobChange>>(
                SqliteWorkflowStore.Cancel(ctx, new WorkflowParams(s.OrganizationId, workflowId)) is { Applied: true } result ? result.Changes : []);

        public ValueTask<Workflow> CreateWorkflowAsync(WorkflowDefinition definition, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SqliteWorkflowStore.Create(ctx, new CreateWorkflowParams(s.OrganizationId, definition, s.Id)));

        public ValueTask RecordRunAsync(long run, Guid? jobId, Guid? workflowId, bool skipped, CancellationToken cancellationToken)
        {
            ctx.Cmd("UPDATE schedule_runs SET job_id = $job, workflow_id = $workflow, skipped = $skipped WHERE seq = $seq")
                .Set("$job", jobId?.ToString()).Set("$workflow", workflowId?.ToString()).Set("$skipped", skipped ? 1 : 0).Set("$seq", run).ExecuteNonQuery();
            return ValueTask.CompletedTask;
        }

        public ValueTask SaveAsync(DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, Guid? lastJobId, Guid? lastWorkflowId, CancellationToken cancellationToken)
        {
            ctx.Cmd("UPDATE schedules SET next_fire_at = $next, last_fire_at = $last, last_job_id = $job, last_workflow_id = $workflow WHERE id = $id")
                .Set("$next", nextFireAt is { } n ? Ms(n) : null).Set("$last", lastFireAt is { } l ? Ms(l) : null).Set("$job", lastJobId?.ToString())
                .Set("$workflow", lastWorkflowId?.ToString()).Set("$id", s.Id.ToString()).ExecuteNonQuery();
            return ValueTask.CompletedTask;
        }
    }
}
