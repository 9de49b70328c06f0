using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

internal sealed class PostgresWorkerStore(PostgresStore store) : IWorkerStore
{
    private const string Columns = "id, organization_id, name, host, pid, queues, capacity, labels, version, state, registered_at, last_heartbeat_at";

    private NpgsqlDataSource Db => store.DataSource;
    private PostgresJobStore JobStore => (PostgresJobStore)store.Jobs;

    public async Task<Worker> RegisterAsync(RegisterWorkerParams p, CancellationToken cancellationToken)
    {
        var now = store.Time.GetUtcNow();
        var id = Ids.New(store.Time);
        var r = p.Registration;
        await using var cmd = Db.CreateCommand($"INSERT INTO workers ({Columns}) VALUES (@id, @org, @name, @host, @pid, @queues, @capacity, @labels, @version, 'active', @now, @now)");
        cmd.Parameters.Uuid("id", id).Uuid("org", p.OrganizationId).Text("name", r.Name).Text("host", r.Host).Int("pid", r.Pid)
            .Texts("queues", [.. r.Queues]).Int("capacity", r.Capacity).Jsonb("labels", JsonSerializer.Serialize(r.Labels))
            .Text("version", r.Version).Long("now", Ms(now));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return new Worker
        {
            Id = id,
            OrganizationId = p.OrganizationId,
            Registration = r,
            State = WorkerState.Active,
            RegisteredAt = now,
            LastHeartbeatAt = now,
        };
    }

    public async Task<WorkerHeartbeatResult?> HeartbeatAsync(WorkerParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(
            "WITH w AS (UPDATE workers SET last_heartbeat_at = @now, state = CASE WHEN state = 'lost' THEN 'active' ELSE state END " +
            "WHERE id = @id AND organization_id = @org RETURNING state) " +
            "SELECT w.state, ARRAY(SELECT id FROM jobs WHERE worker_id = @id AND organization_id = @org AND state = 'running' AND cancel_requested ORDER BY seq) FROM w");
        cmd.Parameters.Long("now", Ms(store.Time.GetUtcNow())).Uuid("id", p.WorkerId).Uuid("org", p.OrganizationId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken)) return null;
        return new WorkerHeartbeatResult(WorkerStates.Parse(r.GetString(0)), r.GetFieldValue<Guid[]>(1));
    }

    public async Task<Worker?> GetAsync(WorkerParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(
            $"SELECT {Columns}, ARRAY(SELECT j.id FROM jobs j WHERE j.worker_id = w.id AND j.organization_id = w.organization_id AND j.state = 'running' ORDER BY j.seq) " +
            "FROM workers w WHERE id = @id AND organization_id = @org");
        cmd.Parameters.Uuid("id", p.WorkerId).Uuid("org", p.OrganizationId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken)) return null;
        return Read(r) with { RunningJobIds = r.GetFieldValue<Guid[]>(12) };
    }

    public async Task<IReadOnlyList<Worker>> ListAsync(ListWorkersParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM workers WHERE organization_id = @org" +
                                               (p.IncludeStopped ? "" : " AND state <> 'stopped'") + " ORDER BY registered_at DESC");
        cmd.Parameters.Uuid("org", p.OrganizationId);
        var list = new List<Worker>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) list.Add(Read(r));
        return list;
    }

    public async Task<bool> SetStateAsync(SetWorkerStateParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE workers SET state = @state WHERE id = @id AND organization_id = @org");
        cmd.Parameters.Text("state", p.State.ToWire()).Uuid("id", p.WorkerId).Uuid("org", p.OrganizationId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Removes the worker and, in the same transaction, ends the leases of its running jobs.</summary>
    public async Task<IReadOnlyList<JobChange>?> DeregisterAsync(WorkerParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM workers WHERE id = @id AND organization_id = @org", connection))
        {
            delete.Parameters.Uuid("id", p.WorkerId).Uuid("org", p.OrganizationId);
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0) return null;
        }
        var failure = new Failure(new JobError("worker deregistered", "WorkerDeregistered", null), Retryable: true, RetryInMs: 0);
        var changes = await JobStore.ReleaseWorkerJobsAsync(connection, [p.WorkerId], failure, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return changes;
    }

    /// <summary>Marks silent workers lost and, in the same transaction, ends the leases of their running jobs.</summary>
    public async Task<LostWorkers> MarkLostAsync(MarkLostParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var lost = new List<Worker>();
        await using (var cmd = new NpgsqlCommand($"UPDATE workers SET state = 'lost' WHERE state IN ('active', 'quiet') AND last_heartbeat_at < @cutoff RETURNING {Columns}", connection))
        {
            cmd.Parameters.Long("cutoff", Ms(p.SilentSince));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) lost.Add(Read(r));
        }
        var failure = new Failure(new JobError("worker lost", "WorkerLost", null));
        var changes = await JobStore.ReleaseWorkerJobsAsync(connection, [.. lost.Select(w => w.Id)], failure, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new LostWorkers(lost, changes);
    }

    private static Worker Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Registration = new WorkerRegistration
        {
            Name = r.GetString(2),
            Host = StringOrNull(r, 3),
            Pid = IntOrNull(r, 4),
            Queues = r.GetFieldValue<string[]>(5),
            Capacity = r.GetInt32(6),
            Labels = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(7)) ?? [],
            Version = StringOrNull(r, 8),
        },
        State = WorkerStates.Parse(r.GetString(9)),
        RegisteredAt = Time(r.GetInt64(10)),
        LastHeartbeatAt = Time(r.GetInt64(11)),
    };
}
