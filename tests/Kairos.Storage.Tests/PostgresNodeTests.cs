using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Kairos.Core.Auth;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Kairos.Storage.Postgres;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Kairos.Storage.Tests;

/// <summary>
/// What only PostgreSQL does: several nodes (store instances, each with its own pool) on one schema. They wake and
/// inform each other through the cluster, one of them leads, and limits and unique keys hold across all of them.
/// </summary>
public sealed partial class PostgresNodeTests : IAsyncLifetime
{
    private static readonly Guid Org = Organizations.Default;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static CancellationToken None => CancellationToken.None;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 15, 12, 0, 0, TimeSpan.Zero));
    private readonly List<IKairosStore> _stores = [];
    private readonly List<string> _schemas = [];
    private string _schema = null!;

    public Task InitializeAsync()
    {
        _ = PostgresTestServer.ConnectionString; // skips or fails first when there is no server
        _schema = PostgresTestServer.NewSchema();
        _schemas.Add(_schema);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
        if (_schemas.Count > 0 && Environment.GetEnvironmentVariable(PostgresTestServer.Variable) is { Length: > 0 })
        {
            await PostgresTestServer.DropSchemasAsync(_schemas);
        }
    }

    /// <summary>A node: a store of its own on the test's schema.</summary>
    private async Task<IKairosStore> NodeAsync()
    {
        var store = await PostgresTestServer.OpenAsync(_schema, _time);
        lock (_stores) _stores.Add(store);
        return store;
    }

    // ------------------------------------------------------------------ wake-ups and events

    [SkippableFact]
    public async Task Ready_notices_and_events_reach_the_other_node_and_not_the_sender()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        Assert.NotEqual(a.Cluster!.NodeId, b.Cluster!.NodeId);
        var heardByA = new RecordingListener();
        var heardByB = new RecordingListener();
        using var stop = new CancellationTokenSource();
        var listenA = a.Cluster.ListenAsync(heardByA, stop.Token);
        var listenB = b.Cluster.ListenAsync(heardByB, stop.Token);

        // LISTEN starts in the background: repeat until the other side has heard it.
        await RepeatUntilAsync(() => a.Cluster.NotifyReady(new ReadyNotice(Org, "from-a", 1)), () => heardByB.Ready.Any(n => n.Queue == "from-a"));
        var sent = new ClusterEvent("job.succeeded", _time.GetUtcNow(), Org, """{"jobId":"j-1","n":[1,2]}""");
        await RepeatUntilAsync(() => b.Cluster.PublishEvent(sent), () => heardByA.Events.Any(e => e.Type == "job.succeeded"));

        var received = heardByA.Events.First(e => e.Type == "job.succeeded");
        Assert.Equal(sent.Time, received.Time);
        Assert.Equal(Org, received.OrganizationId);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sent.DataJson), JsonNode.Parse(received.DataJson)), received.DataJson);
        var notice = heardByB.Ready.First(n => n.Queue == "from-a");
        Assert.Equal(Org, notice.OrganizationId);
        Assert.True(notice.Count >= 1);

        // Notices are delivered in commit order: once each node heard a marker sent after its own notices, it would
        // have heard those too, had they come back to it.
        await RepeatUntilAsync(() => b.Cluster.NotifyReady(new ReadyNotice(Org, "marker-b", 1)), () => heardByA.Ready.Any(n => n.Queue == "marker-b"));
        await RepeatUntilAsync(() => a.Cluster.NotifyReady(new ReadyNotice(Org, "marker-a", 1)), () => heardByB.Ready.Any(n => n.Queue == "marker-a"));
        Assert.DoesNotContain(heardByA.Ready, n => n.Queue is "from-a" or "marker-a");
        Assert.DoesNotContain(heardByB.Ready, n => n.Queue is "marker-b");
        Assert.DoesNotContain(heardByB.Events, e => e.Type == "job.succeeded");

        await stop.CancelAsync();
        await Task.WhenAll(listenA, listenB).WaitAsync(Patience);
    }

    [SkippableFact]
    public async Task Many_notices_are_split_into_payloads_and_an_oversized_event_is_shrunk_not_lost()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var heard = new RecordingListener();
        using var stop = new CancellationTokenSource();
        var listening = b.Cluster!.ListenAsync(heard, stop.Token);
        await RepeatUntilAsync(() => a.Cluster!.NotifyReady(new ReadyNotice(Org, "hello", 1)), () => heard.Ready.Any(n => n.Queue == "hello"));

        // ~1,000 queues of ~60 bytes each: far more than one 8000-byte payload holds.
        const int Queues = 1_000;
        for (var i = 0; i < Queues; i++)
        {
            a.Cluster!.NotifyReady(new ReadyNotice(Org, $"queue-with-a-longish-name-{i:D4}", 2));
            a.Cluster.NotifyReady(new ReadyNotice(Org, $"queue-with-a-longish-name-{i:D4}", 3));
        }
        var stack = string.Concat(Enumerable.Repeat("   at Some.Deep.Frame.Method(Argument a) in /src/File.cs:line 42\n", 400));
        var data = new JsonObject { ["jobId"] = "j-9", ["error"] = new JsonObject { ["message"] = "boom", ["stack"] = stack } }.ToJsonString();
        a.Cluster!.PublishEvent(new ClusterEvent("job.failed", _time.GetUtcNow(), Org, data));
        a.Cluster.PublishEvent(new ClusterEvent("job.note", _time.GetUtcNow(), Org, "not json at all"));

        await heard.WaitUntilAsync(() => heard.Events.Count >= 2 && heard.Ready.Select(n => n.Queue).Distinct().Count() >= Queues + 1, Patience);
        var sums = heard.Ready.Where(n => n.Queue.StartsWith("queue-with", StringComparison.Ordinal))
            .GroupBy(n => n.Queue).ToDictionary(g => g.Key, g => g.Sum(n => n.Count));
        Assert.Equal(Queues, sums.Count);
        Assert.All(sums.Values, total => Assert.Equal(5, total));

        var failed = heard.Events.Single(e => e.Type == "job.failed");
        var parsed = JsonNode.Parse(failed.DataJson)!;
        Assert.Equal("j-9", (string?)parsed["jobId"]);
        Assert.Equal("boom", (string?)parsed["error"]!["message"]);
        var shortened = (string)parsed["error"]!["stack"]!;
        Assert.True(shortened.Length < stack.Length / 4, $"stack of {shortened.Length} chars");
        Assert.StartsWith("   at Some.Deep.Frame", shortened, StringComparison.Ordinal);
        Assert.Equal("not json at all", heard.Events.Single(e => e.Type == "job.note").DataJson);

        await stop.CancelAsync();
        await listening.WaitAsync(Patience);
    }

    [SkippableFact]
    public async Task Listener_reconnects_after_its_connection_breaks()
    {
        var a = await NodeAsync();
        var target = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString);
        await using var relay = new TcpRelay(target.Host!, target.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(PostgresTestServer.InSchema(_schema)) { Host = "127.0.0.1", Port = relay.Port, Timeout = 5 }.ConnectionString;
        var b = new PostgresStore(new PostgresStoreOptions { ConnectionString = viaRelay }, _time);
        lock (_stores) _stores.Add(b);
        await b.MigrateAsync(None);
        var heard = new RecordingListener();
        using var stop = new CancellationTokenSource();
        var listening = b.Cluster!.ListenAsync(heard, stop.Token);
        await RepeatUntilAsync(() => a.Cluster!.NotifyReady(new ReadyNotice(Org, "before", 1)), () => heard.Ready.Any(n => n.Queue == "before"));

        relay.Stop(); // the listening connection breaks; reconnecting is refused for a while
        a.Cluster!.NotifyReady(new ReadyNotice(Org, "during", 1));
        relay.Start();

        await RepeatUntilAsync(() => a.Cluster.NotifyReady(new ReadyNotice(Org, "after", 1)), () => heard.Ready.Any(n => n.Queue == "after"));
        Assert.False(listening.IsCompleted);
        await stop.CancelAsync();
        await listening.WaitAsync(Patience);
    }

    // ------------------------------------------------------------------ leadership

    [SkippableFact]
    public async Task Only_one_node_leads_and_another_takes_over_when_the_leader_steps_down()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();

        var leaderA = await a.Cluster!.TryLeadAsync(None);
        Assert.NotNull(leaderA);
        Assert.Null(await b.Cluster!.TryLeadAsync(None));
        Assert.Null(await a.Cluster.TryLeadAsync(None)); // not twice, not even by the leader's own node
        Assert.False(leaderA.Lost.IsCancellationRequested);

        await leaderA.DisposeAsync();
        var leaderB = await b.Cluster.TryLeadAsync(None);
        Assert.NotNull(leaderB);
        Assert.Null(await a.Cluster.TryLeadAsync(None));
        await leaderB.DisposeAsync();
    }

    [SkippableFact]
    public async Task Leadership_is_lost_when_its_connection_breaks_and_another_node_takes_over()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var leaderA = await a.Cluster!.TryLeadAsync(None);
        Assert.NotNull(leaderA);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = leaderA.Lost.Register(() => lost.TrySetResult());

        // The database ends the leader's session (as on a network cut or a server restart).
        await using (var admin = await PostgresTestServer.ConnectAsync())
        await using (var kill = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 " +
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
            "AND ((classid::bigint << 32) | objid::bigint) = @key", admin))
        {
            kill.Parameters.AddWithValue("key", Keys.Of("leader", _schema));
            Assert.Equal(1L, await kill.ExecuteScalarAsync());
        }

        await lost.Task.WaitAsync(Patience);
        ILeadership? leaderB = null;
        for (var i = 0; i < 50 && leaderB is null; i++)
        {
            leaderB = await b.Cluster!.TryLeadAsync(None);
            if (leaderB is null) await Task.Delay(100); // the server may take a moment to end the session
        }
        Assert.NotNull(leaderB);
        await leaderA.DisposeAsync();
        await leaderB.DisposeAsync();
    }

    // ------------------------------------------------------------------ limits and keys across nodes

    [SkippableFact]
    public async Task Concurrency_limit_holds_across_three_nodes()
    {
        const int Limit = 2;
        const int JobCount = 90;
        var nodes = new[] { await NodeAsync(), await NodeAsync(), await NodeAsync() };
        await nodes[0].Queues.UpsertAsync(new UpsertQueueParams(Org, "limited", new QueueSettings { ConcurrencyLimit = Limit }), None);
        await nodes[1].Jobs.EnqueueManyAsync(new EnqueueManyParams(Org, [.. Enumerable.Range(0, JobCount).Select(_ => Job("limited"))]), None);
        var fetchers = new List<(IKairosStore Node, Worker Worker)>();
        for (var i = 0; i < 24; i++)
        {
            var node = nodes[i % nodes.Length];
            fetchers.Add((node, await node.Workers.RegisterAsync(new RegisterWorkerParams(Org, new WorkerRegistration { Name = $"w{i}", Queues = ["limited"] }), None)));
        }
        var held = 0;
        var maxHeld = 0;
        var done = 0;
        var leased = new ConcurrentBag<Guid>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await Task.WhenAll(fetchers.Select(f => Task.Run(async () =>
        {
            while (Volatile.Read(ref done) < JobCount)
            {
                timeout.Token.ThrowIfCancellationRequested();
                var result = await f.Node.Jobs.LeaseAsync(new LeaseParams(Org, f.Worker.Id, ["limited"], 3, 60_000), None);
                if (result.Jobs.Count == 0)
                {
                    await Task.Yield();
                    continue;
                }
                // Counted after the lease committed, uncounted before the ack is sent: never above the true number.
                var now = Interlocked.Add(ref held, result.Jobs.Count);
                for (var seen = Volatile.Read(ref maxHeld); now > seen; seen = Volatile.Read(ref maxHeld))
                {
                    if (Interlocked.CompareExchange(ref maxHeld, now, seen) == seen) break;
                }
                foreach (var job in result.Jobs)
                {
                    leased.Add(job.Job.Id);
                    Interlocked.Decrement(ref held);
                    var ack = await f.Node.Jobs.AckAsync(new AckParams(Org, job.Job.Id, job.LeaseToken, null), None);
                    Assert.Equal(CommandStatus.Applied, ack.Status);
                    Interlocked.Increment(ref done);
                }
            }
        })));

        Assert.True(maxHeld <= Limit, $"{maxHeld} leases were held at once across nodes; the limit is {Limit}");
        Assert.Equal(JobCount, leased.Count);
        Assert.Equal(JobCount, leased.Distinct().Count());
    }

    [SkippableFact]
    public async Task Limited_queue_lease_is_stamped_no_earlier_than_the_finish_that_freed_its_slot()
    {
        // Node B's clock runs 5 s ahead of node A's (or A read its time long before its lease got the queue lock).
        var a = await NodeAsync();
        var bTime = new FakeTimeProvider(_time.GetUtcNow().AddSeconds(5));
        var b = await PostgresTestServer.OpenAsync(_schema, bTime);
        lock (_stores) _stores.Add(b);
        await a.Queues.UpsertAsync(new UpsertQueueParams(Org, "one-at-a-time", new QueueSettings { ConcurrencyLimit = 1 }), None);
        await a.Jobs.EnqueueManyAsync(new EnqueueManyParams(Org, [Job("one-at-a-time"), Job("one-at-a-time"), Job("plain")]), None);
        var onA = await a.Workers.RegisterAsync(new RegisterWorkerParams(Org, new WorkerRegistration { Name = "a", Queues = ["one-at-a-time", "plain"] }), None);
        var onB = await b.Workers.RegisterAsync(new RegisterWorkerParams(Org, new WorkerRegistration { Name = "b", Queues = ["one-at-a-time"] }), None);

        var first = Assert.Single((await b.Jobs.LeaseAsync(new LeaseParams(Org, onB.Id, ["one-at-a-time"], 5, 30_000), None)).Jobs);
        bTime.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CommandStatus.Applied, (await b.Jobs.AckAsync(new AckParams(Org, first.Job.Id, first.LeaseToken, null), None)).Status);
        var second = Assert.Single((await a.Jobs.LeaseAsync(new LeaseParams(Org, onA.Id, ["one-at-a-time"], 5, 30_000), None)).Jobs);
        var plain = Assert.Single((await a.Jobs.LeaseAsync(new LeaseParams(Org, onA.Id, ["plain"], 5, 30_000), None)).Jobs);

        var finished = (await a.Jobs.GetAsync(new GetJobParams(Org, first.Job.Id), None))!.FinishedAt!.Value;
        Assert.Equal(bTime.GetUtcNow(), finished);
        Assert.Equal(finished, second.Job.StartedAt);
        Assert.Equal(finished.AddSeconds(30), second.LeaseExpiresAt);
        Assert.Equal(finished, Assert.Single((await a.Jobs.GetAsync(new GetJobParams(Org, second.Job.Id), None))!.Attempts).StartedAt);
        Assert.Equal(_time.GetUtcNow(), plain.Job.StartedAt); // a queue without limits keeps the node's own time
    }

    [SkippableFact]
    public async Task Rate_limit_holds_across_nodes_fetching_at_once()
    {
        var nodes = new[] { await NodeAsync(), await NodeAsync(), await NodeAsync() };
        await nodes[0].Queues.UpsertAsync(new UpsertQueueParams(Org, "rated", new QueueSettings { RateLimit = new RateLimit(7, 60_000) }), None);
        await nodes[0].Jobs.EnqueueManyAsync(new EnqueueManyParams(Org, [.. Enumerable.Range(0, 50).Select(_ => Job("rated"))]), None);
        var workers = new List<(IKairosStore Node, Worker Worker)>();
        for (var i = 0; i < 15; i++)
        {
            var node = nodes[i % nodes.Length];
            workers.Add((node, await node.Workers.RegisterAsync(new RegisterWorkerParams(Org, new WorkerRegistration { Name = $"r{i}", Queues = ["rated"] }), None)));
        }

        var results = await Task.WhenAll(workers.Select(w => Task.Run(() =>
            w.Node.Jobs.LeaseAsync(new LeaseParams(Org, w.Worker.Id, ["rated"], 4, 30_000), None))));

        Assert.Equal(7, results.Sum(r => r.Jobs.Count));
        Assert.Contains(results, r => r.LimitedUntil is not null);
    }

    [SkippableFact]
    public async Task Unique_key_holds_across_nodes_enqueuing_at_once()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var job = Job("default") with { UniqueKey = "one-only" };

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).Jobs.EnqueueAsync(new EnqueueParams(Org, job), None))));

        var created = Assert.Single(results, r => !r.Deduplicated);
        Assert.All(results, r => Assert.Equal(created.Job.Id, r.Job.Id));
        Assert.Single((await a.Jobs.ListAsync(new ListJobsParams(Org), None)).Items);
    }

    [SkippableFact]
    public async Task Nodes_starting_together_migrate_once()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(NodeAsync)));

        Assert.All(await Task.WhenAll(stores.Select(s => s.IsReadyAsync(None))), Assert.True);
        await using var admin = await PostgresTestServer.ConnectAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM \"{_schema}\".schema_migrations WHERE version = 1 AND name = '001_initial'", admin);
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }

    // ------------------------------------------------------------------ bad connections and readiness

    [SkippableFact]
    public async Task Unreachable_port_is_not_ready_and_migrate_names_the_server_in_one_line()
    {
        var port = FreePort();
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString)
        {
            Host = "127.0.0.1",
            Port = port,
            Password = "s3cret-never-shown",
            Timeout = 5,
        }.ConnectionString;
        await using var store = new PostgresStore(new PostgresStoreOptions { ConnectionString = connectionString }, _time);

        Assert.False(await store.IsReadyAsync(None));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.MigrateAsync(None));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains(new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString).Database!, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
        Assert.False(await store.IsReadyAsync(None));
    }

    [SkippableFact]
    public async Task Wrong_password_fails_migrate_with_the_servers_reason_and_without_the_password()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresTestServer.InSchema(_schema)) { Password = "wrong-pass-123" }.ConnectionString;
        await using var store = new PostgresStore(new PostgresStoreOptions { ConnectionString = connectionString }, _time);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.MigrateAsync(None));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass-123", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Malformed_connection_string_fails_migrate_in_one_line()
    {
        await using var store = new PostgresStore(new PostgresStoreOptions { ConnectionString = "Hots=nowhere;Pasword=x" }, _time);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.MigrateAsync(None));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("connection string", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task Store_reports_not_ready_while_the_database_is_unreachable_and_recovers_when_it_returns()
    {
        var target = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString);
        await using var relay = new TcpRelay(target.Host!, target.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(PostgresTestServer.InSchema(_schema)) { Host = "127.0.0.1", Port = relay.Port, Timeout = 5 }.ConnectionString;
        var store = new PostgresStore(new PostgresStoreOptions { ConnectionString = viaRelay }, _time);
        _stores.Add(store);
        await store.MigrateAsync(None);
        Assert.True(await store.IsReadyAsync(None));

        relay.Stop(); // the database is gone: open connections break, new ones are refused
        Assert.False(await store.IsReadyAsync(None));
        Assert.False(await store.IsReadyAsync(None));

        relay.Start();
        var ready = false;
        for (var i = 0; i < 20 && !ready; i++)
        {
            ready = await store.IsReadyAsync(None);
        }
        Assert.True(ready);
        Assert.NotNull(await store.Workers.RegisterAsync(new RegisterWorkerParams(Org, new WorkerRegistration { Name = "back" }), None));
    }

    // ------------------------------------------------------------------ helpers

    private static NewJob Job(string queue) => new() { Queue = queue, Type = "test.job", Payload = "{}" };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Calls <paramref name="send"/> every 100 ms until <paramref name="heard"/> holds (bounded).</summary>
    private static async Task RepeatUntilAsync(Action send, Func<bool> heard)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!heard())
        {
            Assert.True(DateTime.UtcNow < deadline, "the other node never heard it");
            send();
            await Task.Delay(100);
        }
    }

    private sealed class RecordingListener : IClusterListener
    {
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<ReadyNotice> Ready { get; } = new();
        public ConcurrentQueue<ClusterEvent> Events { get; } = new();

        public void OnReady(ReadyNotice notice)
        {
            Ready.Enqueue(notice);
            Signal();
        }

        public void OnEvent(ClusterEvent e)
        {
            Events.Enqueue(e);
            Signal();
        }

        private void Signal() =>
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        /// <summary>Waits for notices until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
        public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                var changed = Volatile.Read(ref _changed).Task;
                if (condition()) return;
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, "timed out waiting for notices");
                await changed.WaitAsync(left).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>A TCP relay to the database that can be cut and restored, to play a database that goes away.</summary>
    private sealed class TcpRelay : IAsyncDisposable
    {
        private readonly string _host;
        private readonly int _targetPort;
        private readonly ConcurrentBag<TcpClient> _clients = [];
        private TcpListener? _listener;
        private CancellationTokenSource _cut = new();

        public TcpRelay(string host, int targetPort)
        {
            _host = host;
            _targetPort = targetPort;
            Port = FreePort();
            Start();
        }

        public int Port { get; }

        public void Start()
        {
            _cut = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            _ = AcceptAsync(_listener, _cut.Token);
        }

        public void Stop()
        {
            _cut.Cancel();
            _listener?.Stop();
            while (_clients.TryTake(out var client)) client.Dispose();
        }

        private async Task AcceptAsync(TcpListener listener, CancellationToken cut)
        {
            while (!cut.IsCancellationRequested)
            {
                TcpClient inbound;
                try
                {
                    inbound = await listener.AcceptTcpClientAsync(cut);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                var outbound = new TcpClient();
                _clients.Add(inbound);
                _clients.Add(outbound);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await outbound.ConnectAsync(_host, _targetPort, cut);
                        var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), cut);
                        var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), cut);
                        await Task.WhenAny(up, down);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
                    {
                    }
                    finally
                    {
                        inbound.Dispose();
                        outbound.Dispose();
                    }
                }, CancellationToken.None);
            }
        }

        public ValueTask DisposeAsync()
        {
            Stop();
            _cut.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
