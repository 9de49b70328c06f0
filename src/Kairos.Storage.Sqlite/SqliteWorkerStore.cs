using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

internal sealed class SqliteWorkerStore(SqliteStore store) : IWorkerStore
{
    private const string Columns = "id, organization_id, name, host, pid, queues, capacity, labels, version, state, registered_at, last_heartbeat_at";

    public Task<Worker> RegisterAsync(RegisterWorkerParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var now = ctx.Now;
            var id = Ids.New(ctx.Time);
            var r = p.Registration;
            ctx.Cmd($"INSERT INTO workers ({Columns}) VALUES ($id, $org, $name, $host, $pid, $queues, $capacity, $labels, $version, 'active', $now, $now)")
                .Set("$id", id.ToString()).Set("$org", p.OrganizationId.ToString()).Set("$name", r.Name).Set("$host", r.Host).Set("$pid", r.Pid)
                .Set("$queues", JsonSerializer.Serialize(r.Queues)).Set("$capacity", r.Capacity).Set("$labels", JsonSerializer.Serialize(r.Labels))
                .Set("$version", r.Version).Set("$now", Ms(now)).ExecuteNonQuery();
            return new Worker
            {
                Id = id,
                OrganizationId = p.OrganizationId,
                Registration = r,
                State = WorkerState.Active,
                RegisteredAt = now,
                LastHeartbeatAt = now,
            };
        }, cancellationToken);

    public Task<WorkerHeartbeatResult?> HeartbeatAsync(WorkerParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            ctx.WorkerTouches.Remove(p.WorkerId.ToString());
            var state = ctx.Cmd("UPDATE workers SET last_heartbeat_at = $now, state = CASE WHEN state = 'lost' THEN 'active' ELSE state END " +
                                "WHERE id = $id AND organization_id = $org RETURNING state")
                .Set("$now", Ms(ctx.Now)).Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteScalar() as string;
            if (state is null) return null;
            var cancel = new List<Guid>();
            using (var r = ctx.Cmd("SELECT id FROM jobs WHERE worker_id = $id AND organization_id = $org AND state = 'running' AND cancel_requested = 1")
                       .Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteReader())
            {
                while (r.Read()) cancel.Add(Guid.Parse(r.GetString(0)));
            }
            return new WorkerHeartbeatResult(WorkerStates.Parse(state), cancel);
        }, cancellationToken);

    public Task<Worker?> GetAsync(WorkerParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            Worker? worker;
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = $"SELECT {Columns} FROM workers WHERE id = $id AND organization_id = $org";
                cmd.Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                worker = r.Read() ? Read(r) : null;
            }
            if (worker is null) return null;
            var running = new List<Guid>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT id FROM jobs WHERE worker_id = $id AND organization_id = $org AND state = 'running' ORDER BY seq";
                cmd.Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                while (r.Read()) running.Add(Guid.Parse(r.GetString(0)));
            }
            return worker with { RunningJobIds = running };
        }, cancellationToken);

    public Task<IReadOnlyList<Worker>> ListAsync(ListWorkersParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<Worker>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM workers WHERE organization_id = $org" +
                              (p.IncludeStopped ? "" : " AND state <> 'stopped'") + " ORDER BY registered_at DESC";
            cmd.Set("$org", p.OrganizationId.ToString());
            var list = new List<Worker>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) list.Add(Read(r));
            return list;
        }, cancellationToken);

    public Task<bool> SetStateAsync(SetWorkerStateParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            ctx.WorkerTouches.Remove(p.WorkerId.ToString());
            return ctx.Cmd("UPDATE workers SET state = $state WHERE id = $id AND organization_id = $org")
                .Set("$state", p.State.ToWire()).Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString())
                .ExecuteNonQuery() > 0;
        }, cancellationToken);

    public Task<IReadOnlyList<JobChange>?> DeregisterAsync(WorkerParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<JobChange>?>(ctx =>
        {
            ctx.WorkerTouches.Remove(p.WorkerId.ToString());
            var removed = ctx.Cmd("DELETE FROM workers WHERE id = $id AND organization_id = $org")
                .Set("$id", p.WorkerId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery();
            if (removed == 0) return null;
            var failure = new Failure(new JobError("worker deregistered", "WorkerDeregistered", null), Retryable: true, RetryInMs: 0);
            return ((SqliteJobStore)store.Jobs).ReleaseWorkerJobs(ctx, p.WorkerId.ToString(), failure);
        }, cancellationToken);

    public Task<LostWorkers> MarkLostAsync(MarkLostParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            ctx.WorkerTouches.Clear();
            var lost = new List<Worker>();
            var cmd = ctx.Cmd($"UPDATE workers SET state = 'lost' WHERE state IN ('active', 'quiet') AND last_heartbeat_at < $cutoff RETURNING {Columns}");
            using (var r = cmd.Set("$cutoff", Ms(p.SilentSince)).ExecuteReader())
            {
                while (r.Read()) lost.Add(Read(r));
            }
            var changes = new List<JobChange>();
            var failure = new Failure(new JobError("worker lost", "WorkerLost", null));
            foreach (var w in lost)
            {
                changes.AddRange(((SqliteJobStore)store.Jobs).ReleaseWorkerJobs(ctx, w.Id.ToString(), failure));
            }
            return new LostWorkers(lost, changes);
        }, cancellationToken);

    private static Worker Read(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        OrganizationId = Guid.Parse(r.GetString(1)),
        Registration = new WorkerRegistration
        {
            Name = r.GetString(2),
            Host = StringOrNull(r, 3),
            Pid = IntOrNull(r, 4),
            Queues = JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [],
            Capacity = r.GetInt32(6),
            Labels = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(7)) ?? [],
            Version = StringOrNull(r, 8),
        },
        State = WorkerStates.Parse(r.GetString(9)),
        RegisteredAt = Time(r.GetInt64(10)),
        LastHeartbeatAt = Time(r.GetInt64(11)),
    };
}
