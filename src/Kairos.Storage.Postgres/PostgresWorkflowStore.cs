using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;
using Row = Kairos.Storage.Postgres.PostgresJobStore.Row;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Workflows on PostgreSQL. A workflow is created in one transaction. What a step's end does happens in the
/// transaction that ends it: for an ack inside the ack statement itself (<c>PostgresJobStore.AckSql</c>), for a
/// failure, a cancel or an expired lease through <see cref="SettleAsync"/>. Counts are decremented under row locks,
/// so of concurrent parents exactly one starts a child, and of concurrent last steps exactly one finishes the workflow.
/// Locks are taken in one order: the ending jobs, the children's steps, the children's jobs, the workflow.
/// </summary>
internal sealed class PostgresWorkflowStore(PostgresStore store) : IWorkflowStore
{
    private const int MaxRounds = 16;
    private const string Columns = WorkflowRows.Columns;

    private NpgsqlDataSource Db => store.DataSource;
    private DateTimeOffset Now => store.Time.GetUtcNow();

    public async Task<Workflow> CreateAsync(CreateWorkflowParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var id = await InsertAsync(connection, p, store.Time, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (await LoadAsync(connection, p.OrganizationId, id, lockRow: false, cancellationToken))!;
    }

    /// <summary>Creates the workflow and its jobs inside the caller's transaction (a schedule's firing, or <see cref="CreateAsync"/>); its id.</summary>
    internal static async Task<Guid> InsertAsync(NpgsqlConnection connection, CreateWorkflowParams p, TimeProvider time, CancellationToken cancellationToken)
    {
        var steps = p.Definition.Steps;
        var order = WorkflowGraph.TopologicalOrder(steps);
        var now = time.GetUtcNow();
        var nowMs = Ms(now);
        var id = Ids.New(time);
        var jobIds = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var i in order) jobIds[steps[i].Id] = Ids.New(time);
        var ordered = order.Select(i => steps[i]).ToList();
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO workflows (id, organization_id, name, steps_total, unfinished_steps, schedule_id, created_at, updated_at) " +
            "VALUES (@id, @org, @name, @n, @n, @schedule, @now, @now)", connection))
        {
            cmd.Parameters.Uuid("id", id).Uuid("org", p.OrganizationId).Text("name", p.Definition.Name).Int("n", steps.Count)
                .Uuid("schedule", p.ScheduleId).Long("now", nowMs);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        // The jobs in topological order (parents first: FIFO by seq), taking their queues' defaults as an enqueue does.
        await using (var cmd = new NpgsqlCommand(
            "WITH ensure AS (INSERT INTO queues (organization_id, name, created_at) SELECT @org, n, @now FROM (SELECT DISTINCT unnest(@queues) AS n) x ORDER BY n " +
            "ON CONFLICT (organization_id, name) DO NOTHING) " +
            "INSERT INTO jobs (id, organization_id, queue, type, payload, priority, state, run_at, max_attempts, timeout_ms, tags, created_at, workflow_id, workflow_step) " +
            "SELECT u.id, @org, u.queue, u.type, u.payload, u.priority, u.state, @now, " +
            "COALESCE(u.max_attempts, q.default_max_attempts, @fallback_max_attempts), COALESCE(u.timeout_ms, q.default_timeout_ms), " +
            "COALESCE(ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb)), '{}'), @now, @workflow, u.step " +
            "FROM unnest(@ids, @queues, @types, @payloads, @priorities, @states, @max_attempts, @timeouts, @tags, @steps) WITH ORDINALITY " +
            "AS u(id, queue, type, payload, priority, state, max_attempts, timeout_ms, tags, step, ord) " +
            "LEFT JOIN queues q ON q.organization_id = @org AND q.name = u.queue ORDER BY u.ord", connection))
        {
            cmd.Parameters.Uuid("org", p.OrganizationId).Long("now", nowMs).Int("fallback_max_attempts", RetryPolicy.DefaultMaxAttempts).Uuid("workflow", id)
                .Uuids("ids", [.. ordered.Select(s => jobIds[s.Id])]).Texts("queues", [.. ordered.Select(s => s.Job.Queue)])
                .Texts("types", [.. ordered.Select(s => s.Job.Type)]).Texts("payloads", [.. ordered.Select(s => s.Job.Payload)])
                .Ints("priorities", [.. ordered.Select(s => (int?)s.Job.Priority)]).Texts("states", [.. ordered.Select(s => WorkflowRules.Initial(s).ToWire())])
                .Ints("max_attempts", [.. ordered.Select(s => s.Job.MaxAttempts)]).Ints("timeouts", [.. ordered.Select(s => s.Job.TimeoutMs)])
                .Texts("tags", [.. ordered.Select(s => System.Text.Json.JsonSerializer.Serialize(s.Job.Tags))]).Texts("steps", [.. ordered.Select(s => s.Id)]);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO workflow_steps (workflow_id, step_id, organization_id, position, depends_on, continue_on_failure, unfinished_parents, job_id) " +
            "SELECT @workflow, u.step, @org, u.position, u.depends_on, u.cof, u.waiting, u.job FROM unnest(@steps, @positions, @depends_on, @cofs, @waiting, @jobs) " +
            "AS u(step, position, depends_on, cof, waiting, job)", connection))
        {
            cmd.Parameters.Uuid("workflow", id).Uuid("org", p.OrganizationId).Texts("steps", [.. steps.Select(s => s.Id)])
                .Ints("positions", [.. Enumerable.Range(0, steps.Count).Select(i => (int?)i)]).Texts("depends_on", [.. steps.Select(WorkflowRows.DependsOnJson)])
                .Bools("cofs", [.. steps.Select(s => s.ContinueOnFailure)]).Ints("waiting", [.. steps.Select(s => (int?)s.DependsOn.Count)])
                .Uuids("jobs", [.. steps.Select(s => jobIds[s.Id])]);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        var edges = steps.SelectMany(s => s.DependsOn.Select(parent => (Parent: jobIds[parent], Child: jobIds[s.Id]))).ToList();
        if (edges.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("INSERT INTO workflow_edges (parent_job_id, child_job_id) SELECT * FROM unnest(@parents, @children)", connection);
            cmd.Parameters.Uuids("parents", [.. edges.Select(e => e.Parent)]).Uuids("children", [.. edges.Select(e => e.Child)]);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return id;
    }

    public async Task<Workflow?> GetAsync(WorkflowParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        return await LoadAsync(connection, p.OrganizationId, p.WorkflowId, lockRow: false, cancellationToken);
    }

    /// <summary>The workflow with its steps and their jobs; with <paramref name="lockRow"/> the workflow row is locked (inside a transaction).</summary>
    internal static async Task<Workflow?> LoadAsync(NpgsqlConnection c, Guid org, Guid id, bool lockRow, CancellationToken cancellationToken)
    {
        Workflow w;
        await using (var cmd = new NpgsqlCommand($"SELECT {Columns} FROM workflows WHERE id = @id AND organization_id = @org" + (lockRow ? " FOR UPDATE" : ""), c))
        {
            cmd.Parameters.Uuid("id", id).Uuid("org", org);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            if (!await r.ReadAsync(cancellationToken)) return null;
            w = WorkflowRows.Read(r);
        }
        var steps = new List<WorkflowStep>();
        await using (var cmd = new NpgsqlCommand($"SELECT {WorkflowRows.StepColumns} FROM workflow_steps WHERE workflow_id = @id ORDER BY position", c))
        {
            cmd.Parameters.Uuid("id", id);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) steps.Add(WorkflowRows.ReadStep(r));
        }
        var jobs = new List<Job>(steps.Count);
        await using (var cmd = new NpgsqlCommand($"SELECT {JobColumnsOf("j")} FROM workflow_steps s JOIN jobs j ON j.id = s.job_id " +
                                                 "WHERE s.workflow_id = @id AND j.organization_id = @org", c))
        {
            cmd.Parameters.Uuid("id", id).Uuid("org", org);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) jobs.Add(Job(r));
        }
        return WorkflowRows.WithSteps(w, steps, jobs);
    }

    public async Task<Page<Workflow>> ListAsync(ListWorkflowsParams p, CancellationToken cancellationToken)
    {
        var before = WorkflowRows.ReadCursor(p.Cursor);
        var sql = new System.Text.StringBuilder($"SELECT {Columns} FROM workflows WHERE organization_id = @org");
        if (before is not null) sql.Append(" AND id < @before");
        if (p.Name is not null) sql.Append(" AND name = @name");
        if (p.State is { } state) sql.Append(" AND ").Append(WorkflowRows.StateFilter(state));
        sql.Append(" ORDER BY id DESC LIMIT @n");
        await using var cmd = Db.CreateCommand(sql.ToString());
        cmd.Parameters.Uuid("org", p.OrganizationId).Uuid("before", before).Text("name", p.Name).Int("n", p.Limit + 1);
        var items = new List<Workflow>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) items.Add(WorkflowRows.Read(r));
        return WorkflowRows.Page(items, p.Limit);
    }

    public async Task<WorkflowCommandResult?> CancelAsync(WorkflowParams p, CancellationToken cancellationToken)
    {
        for (var round = 0; ; round++)
        {
            try
            {
                return await CancelOnceAsync(p, cancellationToken);
            }
            catch (PostgresException ex) when (PostgresJobStore.IsDeadlock(ex) && round < MaxRounds)
            {
                // An ack of one of its steps locked the same rows in the other order; rolled back, try again.
            }
        }
    }

    private async Task<WorkflowCommandResult?> CancelOnceAsync(WorkflowParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var result = await CancelInTransactionAsync(connection, p, Now, cancellationToken);
        if (result is { Applied: true }) await tx.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Cancels the workflow's unfinished steps inside the caller's transaction (a schedule's replace, or <see cref="CancelAsync"/>).</summary>
    internal static async Task<WorkflowCommandResult?> CancelInTransactionAsync(NpgsqlConnection connection, WorkflowParams p, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // The unfinished steps' jobs first (the order every transaction of a workflow locks in), then the workflow.
        List<Row> rows;
        await using (var select = new NpgsqlCommand($"SELECT {PostgresJobStore.RowColumnsOf("j")} FROM workflow_steps s JOIN jobs j ON j.id = s.job_id " +
                                                    "WHERE s.workflow_id = @id AND j.organization_id = @org AND j.state NOT IN ('succeeded', 'failed', 'cancelled') " +
                                                    "ORDER BY j.seq FOR UPDATE OF j", connection))
        {
            select.Parameters.Uuid("id", p.WorkflowId).Uuid("org", p.OrganizationId);
            rows = await PostgresJobStore.ReadRowsAsync(select, cancellationToken);
        }
        var w = await LoadAsync(connection, p.OrganizationId, p.WorkflowId, lockRow: true, cancellationToken);
        if (w is null) return null;
        if (w.State != WorkflowState.Running) return new WorkflowCommandResult(false, w, []);
        var changes = new List<JobChange>(rows.Count);
        var ended = new List<long>();
        var requested = new List<long>();
        foreach (var row in rows)
        {
            var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.Cancel);
            if (!decision.Allowed) continue;
            (decision.To == JobState.Running ? requested : ended).Add(row.Seq);
            changes.Add(PostgresJobStore.Change(row, decision));
        }
        var nowMs = Ms(now);
        await using (var cmd = new NpgsqlCommand(
            "WITH e AS (UPDATE jobs SET state = 'cancelled', finished_at = @now WHERE seq = ANY(@ended)), " +
            "r AS (UPDATE jobs SET cancel_requested = true WHERE seq = ANY(@requested)) " +
            "UPDATE workflows SET unfinished_steps = unfinished_steps - @n, cancelled_steps = cancelled_steps + @n, cancel_requested = true, " +
            "updated_at = @now, finished_at = CASE WHEN unfinished_steps - @n = 0 THEN @now ELSE finished_at END WHERE id = @id", connection))
        {
            cmd.Parameters.Long("now", nowMs).Longs("ended", [.. ended.Select(x => (long?)x)]).Longs("requested", [.. requested.Select(x => (long?)x)])
                .Int("n", ended.Count).Uuid("id", w.Id);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        var after = (await LoadAsync(connection, p.OrganizationId, p.WorkflowId, lockRow: false, cancellationToken))!;
        if (after.State != WorkflowState.Running && ended.Count > 0 && changes.Count > 0)
        {
            var last = changes.FindLastIndex(c => c.To == JobState.Cancelled);
            changes[last] = changes[last] with { WorkflowOutcome = new WorkflowOutcome(after.Id, after.Name, after.State) };
        }
        return new WorkflowCommandResult(true, after, changes);
    }

    public async Task<WorkflowCommandResult?> RetryAsync(WorkflowParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var w = await LoadAsync(connection, p.OrganizationId, p.WorkflowId, lockRow: true, cancellationToken);
        if (w is null) return null;
        if (WorkflowRules.PlanRetry(w) is not { } plan) return new WorkflowCommandResult(false, w, []);
        var nowMs = Ms(Now);
        var changes = new List<JobChange>(plan.Count);
        await using (var cmd = new NpgsqlCommand(
            "UPDATE jobs j SET state = u.state, run_at = @now, finished_at = NULL, cancel_requested = false, max_attempts = GREATEST(j.max_attempts, j.attempt + 1) " +
            "FROM unnest(@ids, @from, @to) AS u(id, from_state, state) WHERE j.id = u.id AND j.organization_id = @org AND j.state = u.from_state " +
            "RETURNING j.id, j.queue, j.type, j.attempt", connection))
        {
            cmd.Parameters.Long("now", nowMs).Uuid("org", p.OrganizationId).Uuids("ids", [.. plan.Select(s => s.JobId)])
                .Texts("from", [.. plan.Select(s => s.From.ToWire())]).Texts("to", [.. plan.Select(s => s.To.ToWire())]);
            var byId = plan.ToDictionary(s => s.JobId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                var s = byId[r.GetGuid(0)];
                changes.Add(new JobChange(p.OrganizationId, s.JobId, r.GetString(1), r.GetString(2), s.From, s.To, r.GetInt32(3)) { WorkflowId = w.Id });
            }
        }
        if (changes.Count != plan.Count) throw new InvalidOperationException($"Steps of workflow {w.Id} changed during its retry.");
        await using (var cmd = new NpgsqlCommand(
            "WITH s AS (UPDATE workflow_steps s SET unfinished_parents = u.waiting FROM unnest(@steps, @waiting) AS u(step, waiting) " +
            "  WHERE s.workflow_id = @id AND s.step_id = u.step) " +
            "UPDATE workflows SET unfinished_steps = @n, failed_steps = 0, cancelled_steps = 0, cancel_requested = false, finished_at = NULL, updated_at = @now " +
            "WHERE id = @id", connection))
        {
            cmd.Parameters.Uuid("id", w.Id).Texts("steps", [.. plan.Select(s => s.StepId)]).Ints("waiting", [.. plan.Select(s => (int?)s.UnfinishedParents)])
                .Int("n", plan.Count).Long("now", nowMs);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        var after = (await LoadAsync(connection, p.OrganizationId, p.WorkflowId, lockRow: false, cancellationToken))!;
        await tx.CommitAsync(cancellationToken);
        return new WorkflowCommandResult(true, after, changes);
    }

    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<ParentResult>>> ParentsAsync(ParentsParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT e.child_job_id, j.workflow_step, j.id, j.state, j.result FROM workflow_edges e JOIN jobs j ON j.id = e.parent_job_id " +
                                               "WHERE e.child_job_id = ANY(@ids) AND j.organization_id = @org ORDER BY j.seq");
        cmd.Parameters.Uuids("ids", [.. p.JobIds]).Uuid("org", p.OrganizationId);
        var parents = new Dictionary<Guid, List<ParentResult>>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            var child = r.GetGuid(0);
            if (!parents.TryGetValue(child, out var list)) parents[child] = list = [];
            list.Add(new ParentResult(r.GetString(1), r.GetGuid(2), JobStates.Parse(r.GetString(3)), StringOrNull(r, 4)));
        }
        return parents.ToDictionary(e => e.Key, e => (IReadOnlyList<ParentResult>)e.Value);
    }

    /// <summary>What ending workflow steps did to the others: transitions of other jobs, and the workflows they finished.</summary>
    internal sealed record Settlement(List<JobChange> Cascade, Dictionary<Guid, WorkflowOutcome> Outcomes)
    {
        public static Settlement None => new([], []);

        /// <summary>
        /// The result of one ended job with what it caused: its workflow's outcome when that finished, and (on the
        /// first result only, while <paramref name="first"/>) the cascade of the whole batch.
        /// </summary>
        public CommandResult Apply(CommandResult result, ref bool first)
        {
            if (result.Change is { WorkflowId: { } wf } change && Outcomes.Remove(wf, out var outcome))
            {
                result = result with { Change = change with { WorkflowOutcome = outcome } };
            }
            if (first && Cascade.Count > 0)
            {
                result = result with { Cascade = Cascade };
                first = false;
            }
            return result;
        }
    }

    /// <summary>
    /// Inside the caller's transaction, after the jobs' final states were written: each ended workflow step lets its
    /// children go (those with no unfinished parent left start) or cancels its waiting descendants
    /// (<see cref="WorkflowRules.OnFinished"/>), and the workflows' counters follow.
    /// </summary>
    internal static async Task<Settlement> SettleAsync(NpgsqlConnection c, IReadOnlyList<(Row Row, JobState To)> items, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var ended = items.Where(x => x.Row.WorkflowId is not null && x.To.IsTerminal()).ToList();
        if (ended.Count == 0) return Settlement.None;
        var nowMs = Ms(now);
        var continues = new Dictionary<Guid, bool>();
        await using (var cmd = new NpgsqlCommand("SELECT job_id, continue_on_failure FROM workflow_steps WHERE job_id = ANY(@ids)", c))
        {
            cmd.Parameters.Uuids("ids", [.. ended.Select(x => x.Row.Id)]);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) continues[r.GetGuid(0)] = r.GetBoolean(1);
        }
        var release = new List<Guid>();
        var block = new List<Guid>();
        var counts = new Dictionary<Guid, (int Finished, int Failed, int Cancelled)>();
        foreach (var (row, to) in ended)
        {
            var cof = continues.GetValueOrDefault(row.Id);
            (WorkflowRules.OnFinished(to, cof) == StepRelease.Release ? release : block).Add(row.Id);
            var (failed, cancelled) = WorkflowRules.Counts(to, cof);
            var n = counts.GetValueOrDefault(row.WorkflowId!.Value);
            counts[row.WorkflowId!.Value] = (n.Finished + 1, n.Failed + failed, n.Cancelled + cancelled);
        }
        var cascade = new List<JobChange>();
        if (release.Count > 0)
        {
            var ready = new List<Guid>();
            await using (var cmd = new NpgsqlCommand(
                "UPDATE workflow_steps s SET unfinished_parents = s.unfinished_parents - e.n " +
                "FROM (SELECT child_job_id, count(*)::int AS n FROM workflow_edges WHERE parent_job_id = ANY(@ids) GROUP BY child_job_id) e " +
                "WHERE s.job_id = e.child_job_id RETURNING s.job_id, s.unfinished_parents", c))
            {
                cmd.Parameters.Uuids("ids", [.. release]);
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await r.ReadAsync(cancellationToken)) if (r.GetInt32(1) == 0) ready.Add(r.GetGuid(0));
            }
            var promote = JobStateMachine.Decide(new JobSnapshot(JobState.Pending, 0, 0, false, InWorkflow: true), JobTrigger.ParentsDone);
            if (ready.Count > 0 && promote.Allowed)
            {
                await using var cmd = new NpgsqlCommand($"UPDATE jobs j SET state = @to, run_at = @now WHERE j.id = ANY(@ids) AND j.state = @from RETURNING {PostgresJobStore.RowColumnsOf("j")}", c);
                cmd.Parameters.Text("to", promote.To.ToWire()).Text("from", promote.From.ToWire()).Long("now", nowMs).Uuids("ids", [.. ready]);
                foreach (var row in await PostgresJobStore.ReadRowsAsync(cmd, cancellationToken))
                {
                    cascade.Add(PostgresJobStore.Change(row with { State = promote.From }, promote) with { RunAt = now });
                }
            }
        }
        if (block.Count > 0)
        {
            var cancel = JobStateMachine.Decide(new JobSnapshot(JobState.Pending, 0, 0, false, InWorkflow: true), JobTrigger.Cancel);
            await using var cmd = new NpgsqlCommand(
                "WITH RECURSIVE d(id) AS (SELECT child_job_id FROM workflow_edges WHERE parent_job_id = ANY(@ids) " +
                "  UNION SELECT e.child_job_id FROM workflow_edges e JOIN d ON e.parent_job_id = d.id) " +
                $"UPDATE jobs j SET state = @to, finished_at = @now WHERE j.id IN (SELECT id FROM d) AND j.state = @from RETURNING {PostgresJobStore.RowColumnsOf("j")}", c);
            cmd.Parameters.Text("to", cancel.To.ToWire()).Text("from", cancel.From.ToWire()).Long("now", nowMs).Uuids("ids", [.. block]);
            foreach (var row in await PostgresJobStore.ReadRowsAsync(cmd, cancellationToken))
            {
                cascade.Add(PostgresJobStore.Change(row with { State = cancel.From }, cancel));
                var n = counts.GetValueOrDefault(row.WorkflowId!.Value);
                counts[row.WorkflowId!.Value] = (n.Finished + 1, n.Failed, n.Cancelled + 1);
            }
        }
        var outcomes = new Dictionary<Guid, WorkflowOutcome>();
        var ids = counts.Keys.Order().ToArray();
        await using (var cmd = new NpgsqlCommand(
            "UPDATE workflows w SET unfinished_steps = w.unfinished_steps - u.fin, failed_steps = w.failed_steps + u.fail, " +
            "cancelled_steps = w.cancelled_steps + u.canc, updated_at = @now, finished_at = CASE WHEN w.unfinished_steps - u.fin = 0 THEN @now ELSE w.finished_at END " +
            "FROM unnest(@ids, @fin, @fail, @canc) AS u(id, fin, fail, canc) WHERE w.id = u.id " +
            "RETURNING w.id, w.name, w.unfinished_steps, w.failed_steps, w.cancelled_steps", c))
        {
            cmd.Parameters.Long("now", nowMs).Uuids("ids", ids).Ints("fin", [.. ids.Select(i => (int?)counts[i].Finished)])
                .Ints("fail", [.. ids.Select(i => (int?)counts[i].Failed)]).Ints("canc", [.. ids.Select(i => (int?)counts[i].Cancelled)]);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                if (r.GetInt32(2) == 0) outcomes[r.GetGuid(0)] = new WorkflowOutcome(r.GetGuid(0), r.GetString(1), WorkflowRules.Derive(0, r.GetInt32(3), r.GetInt32(4)));
            }
        }
        return new Settlement(cascade, outcomes);
    }
}
