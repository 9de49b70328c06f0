using System.Data.Common;
using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Workflows on SQLite. Every change goes through the single writer: a workflow's creation, and the consequences of a
/// step's end (<see cref="Settle"/>, called by the job store inside the write that finished the step), are each one
/// transaction that nothing interleaves with.
/// </summary>
internal sealed class SqliteWorkflowStore(SqliteStore store) : IWorkflowStore
{
    private const string Columns = WorkflowRows.Columns;

    public Task<Workflow> CreateAsync(CreateWorkflowParams p, CancellationToken cancellationToken)
    {
        var order = WorkflowGraph.TopologicalOrder(p.Definition.Steps);
        return store.WriteAsync(ctx => Create(ctx, p, order), cancellationToken);
    }

    /// <summary>Creates the workflow and its jobs inside the caller's write (a schedule's firing, or <see cref="CreateAsync"/>).</summary>
    internal static Workflow Create(WriteContext ctx, CreateWorkflowParams p, int[]? order = null)
    {
        var steps = p.Definition.Steps;
        order ??= WorkflowGraph.TopologicalOrder(steps);
        var org = p.OrganizationId.ToString();
        var now = ctx.Now;
        var nowMs = Ms(now);
        var id = Ids.New(ctx.Time);
        ctx.Cmd("INSERT INTO workflows (id, organization_id, name, steps_total, unfinished_steps, schedule_id, created_at, updated_at) " +
                "VALUES ($id, $org, $name, $n, $n, $schedule, $now, $now)")
            .Set("$id", id.ToString()).Set("$org", org).Set("$name", p.Definition.Name).Set("$n", steps.Count)
            .Set("$schedule", p.ScheduleId?.ToString()).Set("$now", nowMs).ExecuteNonQuery();
        var jobIds = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var insertJob = ctx.Cmd(
            "INSERT INTO jobs (id, organization_id, queue, type, payload, priority, state, run_at, max_attempts, timeout_ms, tags, created_at, workflow_id, workflow_step) " +
            "VALUES ($id, $org, $queue, $type, $payload, $priority, $state, $now, $max_attempts, $timeout_ms, $tags, $now, $workflow, $step) RETURNING seq");
        var insertTag = ctx.Cmd("INSERT OR IGNORE INTO job_tags (organization_id, tag, job_seq) VALUES ($org, $tag, $seq)");
        var insertStep = ctx.Cmd(
            "INSERT INTO workflow_steps (workflow_id, step_id, organization_id, position, depends_on, continue_on_failure, unfinished_parents, job_id) " +
            "VALUES ($workflow, $step, $org, $position, $depends_on, $cof, $waiting, $job)");
        var insertEdge = ctx.Cmd("INSERT INTO workflow_edges (parent_job_id, child_job_id) VALUES ($parent, $child)");
        foreach (var i in order)
        {
            var step = steps[i];
            var job = step.Job;
            var queue = SqliteQueueStore.Ensure(ctx, org, job.Queue);
            var jobId = Ids.New(ctx.Time);
            jobIds[step.Id] = jobId;
            var seq = (long)insertJob.Set("$id", jobId.ToString()).Set("$org", org).Set("$queue", job.Queue).Set("$type", job.Type)
                .Set("$payload", job.Payload).Set("$priority", job.Priority).Set("$state", WorkflowRules.Initial(step).ToWire()).Set("$now", nowMs)
                .Set("$max_attempts", job.MaxAttempts ?? queue.DefaultMaxAttempts ?? RetryPolicy.DefaultMaxAttempts)
                .Set("$timeout_ms", job.TimeoutMs ?? queue.DefaultTimeoutMs).Set("$tags", TagsJson(job.Tags))
                .Set("$workflow", id.ToString()).Set("$step", step.Id).ExecuteScalar()!;
            foreach (var tag in job.Tags) insertTag.Set("$org", org).Set("$tag", tag).Set("$seq", seq).ExecuteNonQuery();
            insertStep.Set("$workflow", id.ToString()).Set("$step", step.Id).Set("$org", org).Set("$position", i)
                .Set("$depends_on", WorkflowRows.DependsOnJson(step)).Set("$cof", step.ContinueOnFailure ? 1 : 0)
                .Set("$waiting", step.DependsOn.Count).Set("$job", jobId.ToString()).ExecuteNonQuery();
            foreach (var parent in step.DependsOn)
            {
                insertEdge.Set("$parent", jobIds[parent].ToString()).Set("$child", jobId.ToString()).ExecuteNonQuery();
            }
        }
        return Load(ctx.Connection, org, id)!;
    }

    public Task<Workflow?> GetAsync(WorkflowParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => Load(c, p.OrganizationId.ToString(), p.WorkflowId), cancellationToken);

    /// <summary>The workflow with its steps and their jobs, read on the given connection.</summary>
    internal static Workflow? Load(SqliteConnection c, string org, Guid id)
    {
        Workflow w;
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"SELECT {Columns} FROM workflows WHERE id = $id AND organization_id = $org";
            using var r = cmd.Set("$id", id.ToString()).Set("$org", org).ExecuteReader();
            if (!r.Read()) return null;
            w = WorkflowRows.Read(r);
        }
        var steps = new List<WorkflowStep>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"SELECT {WorkflowRows.StepColumns} FROM workflow_steps WHERE workflow_id = $id ORDER BY position";
            using var r = cmd.Set("$id", id.ToString()).ExecuteReader();
            while (r.Read()) steps.Add(WorkflowRows.ReadStep(r));
        }
        var jobs = new List<Job>(steps.Count);
        using (var cmd = c.CreateCommand())
        {
            // Through the steps (by job id): the jobs table has no index on workflow_id, and needs none.
            cmd.CommandText = $"SELECT {JobColumnsOf("j")} FROM workflow_steps s JOIN jobs j ON j.id = s.job_id WHERE s.workflow_id = $id AND j.organization_id = $org";
            using var r = cmd.Set("$id", id.ToString()).Set("$org", org).ExecuteReader();
            while (r.Read()) jobs.Add(Job(r));
        }
        return WorkflowRows.WithSteps(w, steps, jobs);
    }

    public Task<Page<Workflow>> ListAsync(ListWorkflowsParams p, CancellationToken cancellationToken)
    {
        var before = WorkflowRows.ReadCursor(p.Cursor);
        return store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            var sql = new System.Text.StringBuilder($"SELECT {Columns} FROM workflows WHERE organization_id = $org");
            cmd.Set("$org", p.OrganizationId.ToString());
            if (before is { } b) { sql.Append(" AND id < $before"); cmd.Set("$before", b.ToString()); }
            if (p.Name is { } name) { sql.Append(" AND name = $name"); cmd.Set("$name", name); }
            if (p.State is { } state) sql.Append(" AND ").Append(WorkflowRows.StateFilter(state));
            sql.Append(" ORDER BY id DESC LIMIT $n");
            cmd.Set("$n", p.Limit + 1);
            cmd.CommandText = sql.ToString();
            var items = new List<Workflow>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(WorkflowRows.Read(r));
            return WorkflowRows.Page(items, p.Limit);
        }, cancellationToken);
    }

    public Task<WorkflowCommandResult?> CancelAsync(WorkflowParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Cancel(ctx, p), cancellationToken);

    /// <summary>Cancels the workflow's unfinished steps inside the caller's write (a schedule's replace, or <see cref="CancelAsync"/>).</summary>
    internal static WorkflowCommandResult? Cancel(WriteContext ctx, WorkflowParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Load(ctx.Connection, org, p.WorkflowId) is not { } w) return null;
        if (w.State != WorkflowState.Running) return new WorkflowCommandResult(false, w, []);
        var changes = new List<JobChange>();
        var cancelled = 0;
        foreach (var step in w.Steps)
        {
            if (step.Job is not { } job || job.State.IsTerminal()) continue;
            var result = SqliteJobStore.CancelInWorkflow(ctx, p.OrganizationId, job.Id);
            if (result.Change is not { } change) continue;
            changes.Add(change);
            if (change.To == JobState.Cancelled) cancelled++;
        }
        var outcome = Count(ctx, p.WorkflowId, finished: cancelled, failed: 0, cancelled: cancelled, cancelRequested: true);
        if (outcome is not null && changes.Count > 0) changes[^1] = changes[^1] with { WorkflowOutcome = outcome };
        return new WorkflowCommandResult(true, Load(ctx.Connection, org, p.WorkflowId)!, changes);
    }

    public Task<WorkflowCommandResult?> RetryAsync(WorkflowParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<WorkflowCommandResult?>(ctx =>
        {
            var org = p.OrganizationId.ToString();
            if (Load(ctx.Connection, org, p.WorkflowId) is not { } w) return null;
            if (WorkflowRules.PlanRetry(w) is not { } plan) return new WorkflowCommandResult(false, w, []);
            var nowMs = Ms(ctx.Now);
            var changes = new List<JobChange>(plan.Count);
            var resetJob = ctx.Cmd("UPDATE jobs SET state = $state, run_at = $now, finished_at = NULL, cancel_requested = 0, " +
                                   "max_attempts = MAX(max_attempts, attempt + 1) WHERE id = $id AND organization_id = $org AND state = $from " +
                                   "RETURNING queue, type, attempt");
            var resetStep = ctx.Cmd("UPDATE workflow_steps SET unfinished_parents = $waiting WHERE workflow_id = $workflow AND step_id = $step");
            foreach (var s in plan)
            {
                using (var r = resetJob.Set("$state", s.To.ToWire()).Set("$now", nowMs).Set("$id", s.JobId.ToString()).Set("$org", org)
                           .Set("$from", s.From.ToWire()).ExecuteReader())
                {
                    if (!r.Read()) throw new InvalidOperationException($"Step {s.StepId} changed during its workflow's retry.");
                    changes.Add(new JobChange(p.OrganizationId, s.JobId, r.GetString(0), r.GetString(1), s.From, s.To, r.GetInt32(2)) { WorkflowId = w.Id });
                }
                resetStep.Set("$waiting", s.UnfinishedParents).Set("$workflow", w.Id.ToString()).Set("$step", s.StepId).ExecuteNonQuery();
            }
            ctx.Cmd("UPDATE workflows SET unfinished_steps = $n, failed_steps = 0, cancelled_steps = 0, cancel_requested = 0, finished_at = NULL, " +
                    "updated_at = $now WHERE id = $id")
                .Set("$n", plan.Count).Set("$now", nowMs).Set("$id", w.Id.ToString()).ExecuteNonQuery();
            return new WorkflowCommandResult(true, Load(ctx.Connection, org, p.WorkflowId)!, changes);
        }, cancellationToken);

    public Task<IReadOnlyDictionary<Guid, IReadOnlyList<ParentResult>>> ParentsAsync(ParentsParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyDictionary<Guid, IReadOnlyList<ParentResult>>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT e.child_job_id, j.workflow_step, j.id, j.state, j.result FROM workflow_edges e JOIN jobs j ON j.id = e.parent_job_id " +
                              "WHERE e.child_job_id IN (SELECT value FROM json_each($ids)) AND j.organization_id = $org ORDER BY j.seq";
            cmd.Set("$ids", JsonSerializer.Serialize(p.JobIds.Select(i => i.ToString()))).Set("$org", p.OrganizationId.ToString());
            var parents = new Dictionary<Guid, List<ParentResult>>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var child = Guid.Parse(r.GetString(0));
                if (!parents.TryGetValue(child, out var list)) parents[child] = list = [];
                list.Add(new ParentResult(r.GetString(1), Guid.Parse(r.GetString(2)), JobStates.Parse(r.GetString(3)), StringOrNull(r, 4)));
            }
            return parents.ToDictionary(e => e.Key, e => (IReadOnlyList<ParentResult>)e.Value);
        }, cancellationToken);

    /// <summary>
    /// What the end of a workflow step does, in the write that ended it (<paramref name="to"/> is its final state):
    /// its children count it as done and those with no unfinished parent left start, or its waiting descendants are
    /// cancelled (<see cref="WorkflowRules.OnFinished"/>); the workflow's counters follow. Returns the other jobs'
    /// transitions and, when this finished the workflow, its outcome.
    /// </summary>
    internal static (List<JobChange> Cascade, WorkflowOutcome? Outcome) Settle(WriteContext ctx, Guid org, Guid jobId, Guid workflowId, JobState to)
    {
        var cascade = new List<JobChange>();
        var coF = ctx.Cmd("SELECT continue_on_failure FROM workflow_steps WHERE job_id = $job").Set("$job", jobId.ToString()).ExecuteScalar() is long l && l != 0;
        var release = WorkflowRules.OnFinished(to, coF);
        var (failed, cancelled) = WorkflowRules.Counts(to, coF);
        var finished = 1;
        if (release == StepRelease.Release)
        {
            var ready = new List<string>();
            using (var r = ctx.Cmd("UPDATE workflow_steps SET unfinished_parents = unfinished_parents - 1 " +
                                   "WHERE job_id IN (SELECT child_job_id FROM workflow_edges WHERE parent_job_id = $job) RETURNING job_id, unfinished_parents")
                       .Set("$job", jobId.ToString()).ExecuteReader())
            {
                while (r.Read()) if (r.GetInt32(1) == 0) ready.Add(r.GetString(0));
            }
            foreach (var child in ready)
            {
                if (SqliteJobStore.PromoteStep(ctx, org, Guid.Parse(child)) is { } change) cascade.Add(change);
            }
        }
        else if (release == StepRelease.Block)
        {
            var blocked = SqliteJobStore.CancelWaiting(ctx, jobId);
            cascade.AddRange(blocked);
            finished += blocked.Count;
            cancelled += blocked.Count;
        }
        var outcome = Count(ctx, workflowId, finished, failed, cancelled, cancelRequested: false);
        return (cascade, outcome);
    }

    /// <summary>Counts finished steps into the workflow; its outcome when that finished it.</summary>
    private static WorkflowOutcome? Count(WriteContext ctx, Guid workflowId, int finished, int failed, int cancelled, bool cancelRequested)
    {
        using var r = ctx.Cmd("UPDATE workflows SET unfinished_steps = unfinished_steps - $finished, failed_steps = failed_steps + $failed, " +
                              "cancelled_steps = cancelled_steps + $cancelled, cancel_requested = MAX(cancel_requested, $cr), " +
                              "finished_at = CASE WHEN unfinished_steps - $finished = 0 THEN $now ELSE finished_at END, updated_at = $now " +
                              "WHERE id = $id RETURNING name, unfinished_steps, failed_steps, cancelled_steps")
            .Set("$finished", finished).Set("$failed", failed).Set("$cancelled", cancelled).Set("$cr", cancelRequested ? 1 : 0)
            .Set("$now", Ms(ctx.Now)).Set("$id", workflowId.ToString()).ExecuteReader();
        if (!r.Read() || r.GetInt32(1) != 0 || finished == 0) return null;
        return new WorkflowOutcome(workflowId, r.GetString(0), WorkflowRules.Derive(0, r.GetInt32(2), r.GetInt32(3)));
    }
}
