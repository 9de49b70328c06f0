using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Schedules on PostgreSQL, where several nodes may fire at once (two that both believe they lead, a leader change in
/// the middle of a pass). A firing locks the schedule row (SELECT ... FOR UPDATE), so a second firing waits and then
/// reads the advanced next_fire_at; and the run of each fire time is claimed with INSERT ... ON CONFLICT DO NOTHING
/// against the unique (schedule_id, fire_time) index, in the same transaction as its job and the new next_fire_at.
/// </summary>
internal sealed class PostgresScheduleStore(PostgresStore store) : IScheduleStore
{
    private const string Columns = ScheduleRows.Columns;

    private NpgsqlDataSource Db => store.DataSource;
    private DateTimeOffset Now => store.Time.GetUtcNow();

    private static Schedule Read(NpgsqlDataReader r) => ScheduleRows.Read(r);

    private static async Task<Schedule?> ReadOneAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
    {
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? Read(r) : null;
    }

    /// <summary>The schedule row, locked until the transaction ends.</summary>
    private static async Task<Schedule?> LockAsync(NpgsqlConnection c, Guid org, string? name, Guid? id, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM schedules WHERE organization_id = @org AND " +
                                                (id is null ? "name = @name" : "id = @id") + " FOR UPDATE", c);
        cmd.Parameters.Uuid("org", org).Text("name", name).Uuid("id", id);
        return await ReadOneAsync(cmd, cancellationToken);
    }

    private static NpgsqlParameterCollection SetDefinition(NpgsqlParameterCollection p, ScheduleDefinition d) =>
        p.Text("name", d.Name).Text("cron", d.Cron).Long("every", d.EveryMs).Text("tz", d.TimeZone).Text("kind", d.TemplateKind.ToWire())
            .Text("template", d.TemplateJson()).Text("overlap", d.Overlap.ToWire()).Text("catch_up", d.CatchUp.ToWire()).Int("limit", d.CatchUpLimit)
            .Int("jitter", d.JitterMs).Long("start", d.StartAt is { } s ? Ms(s) : null).Long("end", d.EndAt is { } e ? Ms(e) : null);

    public async Task<Schedule?> CreateAsync(CreateScheduleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await CreateAsync(c, store.Time, p, cancellationToken);
    }

    /// <summary>The insert on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task<Schedule?> CreateAsync(NpgsqlConnection c, TimeProvider time, CreateScheduleParams p, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO schedules (id, organization_id, name, cron, every_ms, timezone, template_kind, template, overlap, catch_up, catch_up_limit, " +
            "jitter_ms, start_at, end_at, paused, pause_reason, next_fire_at, created_at, updated_at) VALUES (@id, @org, @name, @cron, @every, @tz, @kind, " +
            "@template, @overlap, @catch_up, @limit, @jitter, @start, @end, @paused, @reason, @next, @now, @now) " +
            $"ON CONFLICT (organization_id, name) DO NOTHING RETURNING {Columns}", c);
        SetDefinition(cmd.Parameters, p.Definition).Uuid("id", Ids.New(time)).Uuid("org", p.OrganizationId).Bool("paused", p.Paused)
            .Text("reason", p.Paused ? p.PauseReason : null).Long("next", SchedulePlanner.FirstFire(p.Definition, now) is { } n ? Ms(n) : null).Long("now", Ms(now));
        return await ReadOneAsync(cmd, cancellationToken);
    }

    public async Task<Schedule?> UpdateAsync(UpdateScheduleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var updated = await UpdateAsync(c, store.Time, p, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return updated;
    }

    /// <summary>The update on <paramref name="c"/>, in its transaction (the row locked); null when there is none of that name.</summary>
    internal static async Task<Schedule?> UpdateAsync(NpgsqlConnection c, TimeProvider time, UpdateScheduleParams p, CancellationToken cancellationToken)
    {
        if (await LockAsync(c, p.OrganizationId, p.Definition.Name, null, cancellationToken) is not { } current) return null;
        var now = time.GetUtcNow();
        var paused = p.Paused ?? current.Paused;
        var next = current.Paused && !paused ? SchedulePlanner.FirstFire(p.Definition, now) : SchedulePlanner.Reschedule(current, p.Definition, now);
        await using var cmd = new NpgsqlCommand(
            "UPDATE schedules SET cron = @cron, every_ms = @every, timezone = @tz, template_kind = @kind, template = @template, overlap = @overlap, " +
            "catch_up = @catch_up, catch_up_limit = @limit, jitter_ms = @jitter, start_at = @start, end_at = @end, paused = @paused, " +
            $"pause_reason = @reason, next_fire_at = @next, updated_at = @now WHERE id = @id AND name = @name RETURNING {Columns}", c);
        SetDefinition(cmd.Parameters, p.Definition).Uuid("id", current.Id).Bool("paused", paused)
            .Text("reason", paused ? (p.Paused is null ? current.PauseReason : p.PauseReason) : null)
            .Long("next", next is { } n ? Ms(n) : null).Long("now", Ms(now));
        return await ReadOneAsync(cmd, cancellationToken);
    }

    public async Task<Schedule?> GetAsync(ScheduleParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM schedules WHERE organization_id = @org AND name = @name");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
        return await ReadOneAsync(cmd, cancellationToken);
    }

    public async Task<Page<Schedule>> ListAsync(ListSchedulesParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM schedules WHERE organization_id = @org AND name COLLATE \"C\" > @after ORDER BY name COLLATE \"C\" LIMIT @n");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("after", after ?? "").Int("n", p.Limit + 1);
        var items = new List<Schedule>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) items.Add(Read(r));
        return ScheduleCursor.Page(items, p.Limit, s => s.Name);
    }

    public async Task<bool> DeleteAsync(ScheduleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await DeleteAsync(c, p, cancellationToken);
    }

    /// <summary>The delete on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task<bool> DeleteAsync(NpgsqlConnection c, ScheduleParams p, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            "WITH d AS (DELETE FROM schedules WHERE organization_id = @org AND name = @name RETURNING id), " +
            "r AS (DELETE FROM schedule_runs WHERE schedule_id IN (SELECT id FROM d)) SELECT count(*) FROM d", c);
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    public Task<Schedule?> SetPausedAsync(PauseScheduleParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(p.OrganizationId, p.Name, async (c, s) =>
        {
            var now = Now;
            // Resuming starts from now: what fell due while paused does not run.
            var next = !p.Paused && s.Paused ? SchedulePlanner.FirstFire(s.Definition, now) : s.NextFireAt;
            await using var cmd = new NpgsqlCommand("UPDATE schedules SET paused = @paused, pause_reason = @reason, next_fire_at = @next, updated_at = @now " +
                                                    $"WHERE id = @id RETURNING {Columns}", c);
            cmd.Parameters.Bool("paused", p.Paused).Text("reason", p.Paused ? p.Reason : null).Long("next", next is { } n ? Ms(n) : null)
                .Long("now", Ms(now)).Uuid("id", s.Id);
            return await ReadOneAsync(cmd, cancellationToken);
        }, cancellationToken);

    public Task<ScheduleFiring?> TriggerAsync(ScheduleParams p, CancellationToken cancellationToken) =>
        InTransactionAsync<ScheduleFiring>(p.OrganizationId, p.Name, async (c, s) =>
            await ScheduleFirings.TriggerAsync(s, Now, new Session(c, s, store.Time), cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<DueSchedule>> ListDueAsync(ListDueSchedulesParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT organization_id, id, next_fire_at FROM schedules WHERE NOT paused AND next_fire_at <= @now " +
                                               "ORDER BY next_fire_at LIMIT @n");
        cmd.Parameters.Long("now", Ms(Now)).Int("n", p.Limit);
        var due = new List<DueSchedule>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) due.Add(new DueSchedule(r.GetGuid(0), r.GetGuid(1), Time(r.GetInt64(2))));
        return due;
    }

    public async Task<ScheduleFiring?> FireAsync(FireScheduleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE waits for a firing of the same schedule elsewhere, then reads the row as that one left it.
        if (await LockAsync(c, p.OrganizationId, null, p.ScheduleId, cancellationToken) is not { } s) return null;
        var now = Now;
        if (s.Paused || s.NextFireAt is not { } next || next > now) return null;
        var firing = await ScheduleFirings.FireAsync(s, SchedulePlanner.Plan(s, now, p.MisfireTolerance), new Session(c, s, store.Time), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return firing;
    }

    public async Task<DateTimeOffset?> NextFireAsync(CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT min(next_fire_at) FROM schedules WHERE NOT paused");
        return await cmd.ExecuteScalarAsync(cancellationToken) is long ms ? Time(ms) : null;
    }

    public async Task<Page<ScheduleRun>?> ListRunsAsync(ListScheduleRunsParams p, CancellationToken cancellationToken)
    {
        var before = ScheduleCursor.ReadSeq(p.Cursor);
        Guid scheduleId;
        await using (var find = Db.CreateCommand("SELECT id FROM schedules WHERE organization_id = @org AND name = @name"))
        {
            find.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
            if (await find.ExecuteScalarAsync(cancellationToken) is not Guid id) return null;
            scheduleId = id;
        }
        var runs = new List<ScheduleRun>();
        await using (var cmd = Db.CreateCommand($"SELECT {ScheduleRows.RunColumns} FROM schedule_runs WHERE schedule_id = @id AND seq < @before ORDER BY seq DESC LIMIT @n"))
        {
            cmd.Parameters.Uuid("id", scheduleId).Long("before", before ?? long.MaxValue).Int("n", p.Limit + 1);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) runs.Add(ScheduleRows.ReadRun(r));
        }
        var jobs = new List<Job>();
        var ids = runs.Where(r => r.JobId is not null).Select(r => r.JobId!.Value).ToArray();
        if (ids.Length > 0)
        {
            await using var cmd = Db.CreateCommand($"SELECT {JobColumns} FROM jobs WHERE organization_id = @org AND id = ANY(@ids)");
            cmd.Parameters.Uuid("org", p.OrganizationId).Uuids("ids", ids);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) jobs.Add(Job(r));
        }
        var workflows = new List<Workflow>();
        var workflowIds = ScheduleRows.WorkflowIds(runs);
        if (workflowIds.Count > 0)
        {
            await using var cmd = Db.CreateCommand($"SELECT {WorkflowRows.Columns} FROM workflows WHERE organization_id = @org AND id = ANY(@ids)");
            cmd.Parameters.Uuid("org", p.OrganizationId).Uuids("ids", [.. workflowIds]);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) workflows.Add(WorkflowRows.Read(r));
        }
        return ScheduleCursor.PageBySeq(ScheduleRows.WithWorkflows(ScheduleRows.WithJobs(runs, jobs), workflows), p.Limit);
    }

    /// <summary>Runs <paramref name="work"/> on the locked schedule in one transaction; null when there is no such schedule.</summary>
    private async Task<T?> InTransactionAsync<T>(Guid org, string name, Func<NpgsqlConnection, Schedule, Task<T?>> work, CancellationToken cancellationToken)
        where T : class
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(c, org, name, null, cancellationToken) is not { } s) return null;
        var result = await work(c, s);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>The firing's writes, on the connection of its transaction.</summary>
    private sealed class Session(NpgsqlConnection c, Schedule s, TimeProvider time) : IFiringSession
    {
        public async ValueTask<long?> ClaimRunAsync(DateTimeOffset fireTime, bool manual, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand("INSERT INTO schedule_runs (organization_id, schedule_id, fire_time, manual, created_at) " +
                                                    "VALUES (@org, @id, @fire, @manual, @now) ON CONFLICT (schedule_id, fire_time) WHERE NOT manual DO NOTHING RETURNING seq", c);
            cmd.Parameters.Uuid("org", s.OrganizationId).Uuid("id", s.Id).Long("fire", Ms(fireTime)).Bool("manual", manual).Long("now", Ms(time.GetUtcNow()));
            return await cmd.ExecuteScalarAsync(cancellationToken) is long seq ? seq : null;
        }

        public async ValueTask<JobState?> JobStateAsync(Guid jobId, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand("SELECT state FROM jobs WHERE id = @id AND organization_id = @org", c);
            cmd.Parameters.Uuid("id", jobId).Uuid("org", s.OrganizationId);
            return await cmd.ExecuteScalarAsync(cancellationToken) is string state ? JobStates.Parse(state) : null;
        }

        /// <summary>Locks the job, lets the state machine decide the cancel, and applies it.</summary>
        public async ValueTask<JobChange?> CancelAsync(Guid jobId, CancellationToken cancellationToken)
        {
            await using var select = new NpgsqlCommand($"SELECT {PostgresJobStore.RowColumns} FROM jobs WHERE id = @id AND organization_id = @org FOR UPDATE", c);
            select.Parameters.Uuid("id", jobId).Uuid("org", s.OrganizationId);
            if ((await PostgresJobStore.ReadRowsAsync(select, cancellationToken)).FirstOrDefault() is not { } row) return null;
            var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.Cancel);
            if (!decision.Allowed) return null;
            await using var update = new NpgsqlCommand(decision.To == JobState.Running
                ? "UPDATE jobs SET cancel_requested = true WHERE seq = @seq"
                : "UPDATE jobs SET state = @to, finished_at = @now WHERE seq = @seq", c);
            update.Parameters.Long("seq", row.Seq).Text("to", decision.To.ToWire()).Long("now", Ms(time.GetUtcNow()));
            await update.ExecuteNonQueryAsync(cancellationToken);
            return new JobChange(row.OrganizationId, row.Id, row.Queue, row.Type, row.State, decision.To, row.Attempt)
            {
                WorkerId = row.WorkerId,
                CancelRequested = decision.CancelRequested,
            };
        }

        public async ValueTask<Job> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow();
            var runAt = job.RunAt ?? now;
            await using (var insert = new NpgsqlCommand(PostgresJobStore.InsertOneSql, c))
            {
                insert.Parameters.Uuid("id", Ids.New(time)).Uuid("org", s.OrganizationId).Text("queue", job.Queue).Text("type", job.Type)
                    .Text("payload", job.Payload).Int("priority", job.Priority).Text("state", JobStateMachine.Enqueue(runAt, now).ToWire()).Long("run_at", Ms(runAt))
                    .Int("max_attempts", job.MaxAttempts).Int("fallback_max_attempts", RetryPolicy.DefaultMaxAttempts).Int("timeout_ms", job.TimeoutMs)
                    .Text("unique_key", job.UniqueKey).Texts("tags", [.. job.Tags]).Long("now", Ms(now));
                await using var r = await insert.ExecuteReaderAsync(cancellationToken);
                if (await r.ReadAsync(cancellationToken)) return Job(r);
            }
            // An unfinished job holds the unique key: the job of this fire time exists already.
            await using var find = new NpgsqlCommand($"SELECT {JobColumns} FROM jobs WHERE organization_id = @org AND queue = @queue AND unique_key = @key " +
                                                     "AND state NOT IN ('succeeded', 'failed', 'cancelled') LIMIT 1", c);
            find.Parameters.Uuid("org", s.OrganizationId).Text("queue", job.Queue).Text("key", job.UniqueKey);
            await using var held = await find.ExecuteReaderAsync(cancellationToken);
            return await held.ReadAsync(cancellationToken) ? Job(held) : throw new InvalidOperationException($"Unique key '{job.UniqueKey}' is held but its job is gone.");
        }

        public async ValueTask<WorkflowTemplate?> WorkflowTemplateAsync(string name, CancellationToken cancellationToken) =>
            await PostgresWorkflowTemplateStore.FindAsync(c, s.OrganizationId, name, cancellationToken);

        public async ValueTask<WorkflowState?> WorkflowStateAsync(Guid workflowId, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand($"SELECT {WorkflowRows.Columns} FROM workflows WHERE id = @id AND organization_id = @org", c);
            cmd.Parameters.Uuid("id", workflowId).Uuid("org", s.OrganizationId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            return await r.ReadAsync(cancellationToken) ? WorkflowRows.Read(r).State : null;
        }

        public async ValueTask<IReadOnlyList<JobChange>> CancelWorkflowAsync(Guid workflowId, CancellationToken cancellationToken) =>
            await PostgresWorkflowStore.CancelInTransactionAsync(c, new WorkflowParams(s.OrganizationId, workflowId), time.GetUtcNow(), cancellationToken)
                is { Applied: true } result ? result.Changes : [];

        public async ValueTask<Workflow> CreateWorkflowAsync(WorkflowDefinition definition, CancellationToken cancellationToken)
        {
            var id = await PostgresWorkflowStore.InsertAsync(c, new CreateWorkflowParams(s.OrganizationId, definition, s.Id), time, cancellationToken);
            return (await PostgresWorkflowStore.LoadAsync(c, s.OrganizationId, id, lockRow: false, cancellationToken))!;
        }

        public async ValueTask RecordRunAsync(long run, Guid? jobId, Guid? workflowId, bool skipped, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand("UPDATE schedule_runs SET job_id = @job, workflow_id = @workflow, skipped = @skipped WHERE seq = @seq", c);
            cmd.Parameters.Uuid("job", jobId).Uuid("workflow", workflowId).Bool("skipped", skipped).Long("seq", run);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask SaveAsync(DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, Guid? lastJobId, Guid? lastWorkflowId, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand(
                "UPDATE schedules SET next_fire_at = @next, last_fire_at = @last, last_job_id = @job, last_workflow_id = @workflow WHERE id = @id", c);
            cmd.Parameters.Long("next", nextFireAt is { } n ? Ms(n) : null).Long("last", lastFireAt is { } l ? Ms(l) : null).Uuid("job", lastJobId)
                .Uuid("workflow", lastWorkflowId).Uuid("id", s.Id);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
