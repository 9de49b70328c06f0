using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kairos.Cli.Tests;

/// <summary>
/// Several published <c>kairos server --store postgres</c> processes on one PostgreSQL schema, over real HTTP: exactly
/// once within a concurrency limit across nodes, leader failover after kill -9, and readiness through a cut database
/// connection. The database itself (Npgsql queries) is the oracle. Every test works in a schema of its own, kills every
/// process it started and drops the schema, even when it fails.
/// </summary>
[Collection(KairosProcessCollection.Name)]
public sealed partial class MultiNodeTests(PublishedKairos kairos, ITestOutputHelper output) : IAsyncLifetime
{
    private const string AdminKey = "kx_multi_node_tests_admin_key_0123456789";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kairos-cli-tests", "nodes-" + Guid.NewGuid().ToString("N"));
    private readonly List<KairosProcess> _processes = [];
    private readonly List<string> _schemas = [];

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
            output.WriteLine(process.Describe(lastLines: 15));
        }
        foreach (var schema in _schemas)
        {
            try
            {
                await TestPostgres.DropSchemaAsync(schema);
            }
            catch (NpgsqlException ex)
            {
                output.WriteLine($"could not drop schema {schema}: {ex.Message}");
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    // ------------------------------------------------------------------ exactly once within the limit

    // The attempt records are the oracle: a lease of a limited queue is stamped no earlier than the latest start or
    // finish recorded for that queue (read under the queue lock), so overlapping attempts can never exceed the limit.
    [SkippableFact]
    public async Task Two_nodes_run_20000_jobs_exactly_once_within_the_concurrency_limit()
    {
        const int Total = 20_000;
        const int Chunk = 1_000;
        const int Limit = 16;
        const int WorkersPerNode = 4;
        const string Queue = "multi-node";
        var schema = await NewSchemaAsync();
        var connectionString = TestPostgres.InSchema(schema);

        // Both nodes start together: they migrate the empty schema at the same moment.
        var nodes = await Task.WhenAll(
            StartNodeAsync("node A", connectionString),
            StartNodeAsync("node B", connectionString));
        using (var put = await nodes[0].Client.PutAsync($"api/v1/queues/{Queue}",
                   JsonContentOf(new { ConcurrencyLimit = Limit })))
        {
            await KairosApi.EnsureStatusAsync(put, HttpStatusCode.OK);
        }

        var fetchedBy = new ConcurrentDictionary<Guid, ConcurrentBag<Guid>>(); // job -> the workers it was handed to
        var ackedTimes = new ConcurrentDictionary<Guid, int>();
        var problems = new ConcurrentQueue<string>();
        var enqueued = new ConcurrentBag<Guid>();
        var acked = 0;
        var held = 0;
        var maxHeld = 0;
        var fetches = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var clock = Stopwatch.StartNew();

        async Task WorkerAsync(KairosProcess node, int index)
        {
            using var http = NewClient(node);
            var workerId = await http.RegisterWorkerAsync($"multi-node-{index}", Queue);
            while (Volatile.Read(ref acked) < Total)
            {
                deadline.Token.ThrowIfCancellationRequested();
                JsonElement jobs;
                using (var fetch = await http.PostJsonAsync("api/v1/fetch",
                           new { WorkerId = workerId, Queues = new[] { Queue }, Max = 50, WaitMs = 500, LeaseMs = 120_000 }, deadline.Token))
                {
                    await KairosApi.EnsureStatusAsync(fetch, HttpStatusCode.OK);
                    jobs = (await fetch.ReadJsonAsync(deadline.Token)).GetProperty("jobs");
                }
                Interlocked.Increment(ref fetches);
                var n = jobs.GetArrayLength();
                if (n == 0) continue;
                // Counted after the lease committed and uncounted before the ack is sent: never above the true number.
                var now = Interlocked.Add(ref held, n);
                for (var seen = Volatile.Read(ref maxHeld); now > seen; seen = Volatile.Read(ref maxHeld))
                {
                    if (Interlocked.CompareExchange(ref maxHeld, now, seen) == seen) break;
                }
                var acks = new List<object>(n);
                foreach (var job in jobs.EnumerateArray())
                {
                    var id = job.GetProperty("id").GetGuid();
                    fetchedBy.GetOrAdd(id, _ => []).Add(workerId);
                    acks.Add(new { Id = id, LeaseToken = job.GetProperty("lease_token").GetString() });
                }
                Interlocked.Add(ref held, -n);
                using var ack = await http.PostJsonAsync("api/v1/ack", new { Acks = acks }, deadline.Token);
                await KairosApi.EnsureStatusAsync(ack, HttpStatusCode.OK);
                var ok = 0;
                foreach (var result in (await ack.ReadJsonAsync(deadline.Token)).GetProperty("results").EnumerateArray())
                {
                    var id = result.GetProperty("id").GetGuid();
                    var status = result.GetProperty("status").GetString();
                    if (status != "ok")
                    {
                        problems.Enqueue($"ack of {id} by worker {workerId} answered {status} ({result})");
                        continue;
                    }
                    ackedTimes.AddOrUpdate(id, 1, (_, c) => c + 1);
                    ok++;
                }
                Interlocked.Add(ref acked, ok);
            }
        }

        async Task EnqueueAsync(KairosProcess node, int first)
        {
            for (var start = first; start < first + Total / 2; start += Chunk)
            {
                var jobs = Enumerable.Range(start, Chunk).Select(i => new { Queue, Type = "multi.node", Payload = new { N = i } }).ToList();
                using var response = await node.Client.PostJsonAsync("api/v1/jobs/bulk", new { Jobs = jobs }, deadline.Token);
                await KairosApi.EnsureStatusAsync(response, HttpStatusCode.Created);
                var ids = (await response.ReadJsonAsync(deadline.Token)).GetProperty("ids");
                Assert.Equal(Chunk, ids.GetArrayLength());
                foreach (var id in ids.EnumerateArray()) enqueued.Add(id.GetGuid());
            }
        }

        // The workers wait first; the jobs arrive through both nodes while they run.
        var workers = Enumerable.Range(0, 2 * WorkersPerNode).Select(i => Task.Run(() => WorkerAsync(nodes[i % 2], i))).ToList();
        await Task.WhenAll(Task.Run(() => EnqueueAsync(nodes[0], 0)), Task.Run(() => EnqueueAsync(nodes[1], Total / 2)));
        var enqueuedIn = clock.Elapsed;
        // A second oracle while they run: snapshots of the jobs the database has running (each one statement, so one
        // consistent snapshot taken between the two wall-clock readings around it).
        using var stopSampling = new CancellationTokenSource();
        var sampling = Task.Run(() => SampleRunningAsync(schema, Queue, stopSampling.Token));
        await Task.WhenAll(workers);
        var ranIn = clock.Elapsed;
        await stopSampling.CancelAsync();
        var samples = await sampling;

        // The workers' own tally.
        Assert.True(problems.IsEmpty, string.Join('\n', problems.Take(20)));
        Assert.Equal(Total, enqueued.Count);
        var enqueuedIds = enqueued.ToHashSet();
        Assert.Equal(Total, enqueuedIds.Count);
        Assert.Equal(Total, Volatile.Read(ref acked));
        var ackedTwice = ackedTimes.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
        Assert.True(ackedTwice.Count == 0, $"{ackedTwice.Count} job ids were acked more than once, e.g. {string.Join(", ", ackedTwice.Take(5))}");
        var handedTwice = fetchedBy.Where(kv => kv.Value.Count > 1).ToList();
        Assert.True(handedTwice.Count == 0,
            $"{handedTwice.Count} jobs were handed out more than once, e.g. " +
            string.Join("; ", handedTwice.Take(5).Select(kv => $"{kv.Key} to workers {string.Join(", ", kv.Value)}")));
        Assert.True(enqueuedIds.SetEquals(ackedTimes.Keys), "the acked jobs are not the enqueued jobs");
        Assert.True(maxHeld <= Limit, $"the workers held {maxHeld} leases at once; the limit is {Limit}");

        // The database is the oracle.
        await using var db = await TestPostgres.ConnectAsync(schema);
        var states = await QueryAsync(db, "SELECT state, count(*) FROM jobs WHERE queue = @q GROUP BY state ORDER BY state",
            r => (State: r.GetString(0), Count: r.GetInt64(1)), ("q", Queue));
        Assert.Equal([("succeeded", (long)Total)], states);
        var jobRows = await QueryAsync(db, "SELECT id, attempt, worker_id FROM jobs WHERE queue = @q",
            r => (Id: r.GetGuid(0), Attempt: r.GetInt32(1), Worker: r.IsDBNull(2) ? (Guid?)null : r.GetGuid(2)), ("q", Queue));
        Assert.True(enqueuedIds.SetEquals(jobRows.Select(j => j.Id)), "the jobs in the database are not the jobs enqueued");
        var notOnce = jobRows.Where(j => j.Attempt != 1).ToList();
        Assert.True(notOnce.Count == 0, $"{notOnce.Count} jobs record attempt != 1, e.g. {string.Join(", ", notOnce.Take(5))}");

        var attempts = await QueryAsync(db,
            "SELECT job_id, number, worker_id, started_at, finished_at, outcome FROM job_attempts WHERE queue = @q",
            r => new AttemptRow(r.GetGuid(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetGuid(2), r.GetInt64(3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.IsDBNull(5) ? null : r.GetString(5)), ("q", Queue));
        var perJob = attempts.GroupBy(a => a.JobId).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(Total, perJob.Count);
        var severalAttempts = perJob.Where(kv => kv.Value.Count != 1).ToList();
        Assert.True(severalAttempts.Count == 0,
            $"{severalAttempts.Count} jobs have more than one attempt (a lease handed out twice), e.g. " +
            string.Join("; ", severalAttempts.Take(5).Select(kv => $"{kv.Key}: {string.Join(" | ", kv.Value)}")));
        Assert.Equal(Total, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(1, a.Number);
            Assert.Equal("succeeded", a.Outcome);
            Assert.NotNull(a.FinishedAt);
            Assert.True(a.FinishedAt >= a.StartedAt, $"attempt ends before it starts: {a}");
        });
        // Each attempt is recorded for the one worker the job was handed to.
        var wrongWorker = attempts.Where(a => !fetchedBy.TryGetValue(a.JobId, out var w) || w.Single() != a.WorkerId).ToList();
        Assert.True(wrongWorker.Count == 0, $"{wrongWorker.Count} attempts name another worker than the one that got the job, e.g. {string.Join("; ", wrongWorker.Take(5))}");

        var (overlap, at) = MaxOverlap(attempts.Select(a => (a.StartedAt, a.FinishedAt!.Value)));
        var maxSampled = samples.Count == 0 ? 0 : samples.Max(x => x.Running.Count);
        // An attempt recorded as running across a whole snapshot (started before the snapshot could be taken, finished
        // after it was) must be running in that snapshot; 1 ms of margin for the milliseconds the times are cut to.
        var phantoms = RecordedButNotRunning(attempts, samples);
        output.WriteLine(
            $"{Total} jobs enqueued in {enqueuedIn.TotalSeconds:F1} s and run in {ranIn.TotalSeconds:F1} s by {2 * WorkersPerNode} workers on 2 nodes " +
            $"({Total / ranIn.TotalSeconds:F0} jobs/s, {fetches} fetches); attempt records: at most {overlap} overlapped (at {at}); " +
            $"database snapshots: at most {maxSampled} running in {samples.Count} samples; the workers held at most {maxHeld}; limit {Limit}; " +
            $"{phantoms.Count} (attempt, snapshot) pairs where the record says running and the snapshot does not");
        Assert.True(maxSampled <= Limit,
            $"the database had {maxSampled} jobs of the queue running at once (limit {Limit}): " +
            string.Join("; ", samples.Where(x => x.Running.Count > Limit).Take(3).Select(x => $"at {x.Before}..{x.After}: {x.Running.Count}")));
        Assert.True(overlap <= Limit,
            $"{overlap} attempt intervals [started_at, finished_at) overlap at {at} ms; the concurrency limit is {Limit}. " +
            $"(Database snapshots saw at most {maxSampled} running; {phantoms.Count} times an attempt recorded as running across a whole snapshot " +
            $"was not running in it, e.g. {string.Join("; ", phantoms.Take(3))}.) Those attempts: " +
            string.Join("; ", attempts.Where(a => a.StartedAt <= at && a.FinishedAt > at).OrderBy(a => a.StartedAt).Take(40).Select(a => a.ToString())));
    }

    // ------------------------------------------------------------------ leader failover

    [SkippableFact]
    public async Task Killing_the_leader_hands_its_leases_back_through_the_other_node()
    {
        const int Total = 20;
        const int Doomed = 8;
        const int LeaseMs = 2_000;
        const string Queue = "failover";
        var schema = await NewSchemaAsync();
        var connectionString = TestPostgres.InSchema(schema);

        var a = await StartNodeAsync("node A (killed)", connectionString);
        await a.WaitForStdoutAsync(KairosNodes.LeadsLine, TimeSpan.FromSeconds(15));
        var b = await StartNodeAsync("node B", connectionString);
        Assert.DoesNotContain(b.Stdout, l => l.Contains(KairosNodes.LeadsLine, StringComparison.Ordinal));

        Guid[] all;
        using (var response = await b.Client.PostJsonAsync("api/v1/jobs/bulk",
                   new { Jobs = Enumerable.Range(0, Total).Select(i => new { Queue, Type = "failover.job", Payload = new { N = i } }).ToList() }))
        {
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.Created);
            all = [.. (await response.ReadJsonAsync()).GetProperty("ids").EnumerateArray().Select(e => e.GetGuid())];
        }
        Assert.Equal(Total, all.Distinct().Count());

        // A worker on A takes some jobs and never acks them.
        var doomedWorker = await a.Client.RegisterWorkerAsync("doomed", Queue);
        Guid[] taken;
        using (var fetch = await a.Client.PostJsonAsync("api/v1/fetch",
                   new { WorkerId = doomedWorker, Queues = new[] { Queue }, Max = Doomed, WaitMs = 5_000, LeaseMs }))
        {
            await KairosApi.EnsureStatusAsync(fetch, HttpStatusCode.OK);
            taken = [.. (await fetch.ReadJsonAsync()).GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetGuid())];
        }
        Assert.Equal(Doomed, taken.Length);
        foreach (var id in taken) Assert.Equal("running", (await GetJobAsync(b.Client, id)).GetProperty("state").GetString());

        // kill -9 the leader while it holds those leases.
        var sinceKill = Stopwatch.StartNew();
        a.Kill();
        await a.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await b.WaitForStdoutAsync(KairosNodes.LeadsLine, TimeSpan.FromSeconds(15));
        var takeover = sinceKill.Elapsed;

        // The jobs come back once their leases expire: the new leader reaps them.
        var reaped = await KairosNodes.PollAsync(async () =>
        {
            foreach (var id in taken)
            {
                var job = await GetJobAsync(b.Client, id);
                if (job.GetProperty("state").GetString() == "running") return false;
                var errors = job.GetProperty("attempts").EnumerateArray()
                    .Select(x => x.GetProperty("error")).Where(e => e.ValueKind == JsonValueKind.Object)
                    .Select(e => e.GetProperty("message").GetString());
                if (!errors.Any(m => m is "lease expired" or "worker lost")) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(20));
        var reapedAfter = sinceKill.Elapsed;
        Assert.True(reaped, $"the leases of the killed node were not reaped within 20 s:\n" +
                            string.Join('\n', await Task.WhenAll(taken.Select(async id => (await GetJobAsync(b.Client, id)).ToString()))));

        // A worker on B runs every job to success.
        using var http = NewClient(b);
        var survivor = await http.RegisterWorkerAsync("survivor", Queue);
        var done = new HashSet<Guid>();
        var runDeadline = Stopwatch.StartNew();
        while (done.Count < Total)
        {
            Assert.True(runDeadline.Elapsed < TimeSpan.FromSeconds(30),
                $"only {done.Count} of {Total} jobs ran on node B within 30 s; missing: {string.Join(", ", all.Except(done))}");
            using var fetch = await http.PostJsonAsync("api/v1/fetch",
                new { WorkerId = survivor, Queues = new[] { Queue }, Max = 50, WaitMs = 1_000, LeaseMs = 30_000 });
            await KairosApi.EnsureStatusAsync(fetch, HttpStatusCode.OK);
            var jobs = (await fetch.ReadJsonAsync()).GetProperty("jobs").EnumerateArray()
                .Select(j => new { Id = j.GetProperty("id").GetGuid(), LeaseToken = j.GetProperty("lease_token").GetString() }).ToList();
            if (jobs.Count == 0) continue;
            using var ack = await http.PostJsonAsync("api/v1/ack", new { Acks = jobs });
            await KairosApi.EnsureStatusAsync(ack, HttpStatusCode.OK);
            foreach (var r in (await ack.ReadJsonAsync()).GetProperty("results").EnumerateArray())
            {
                Assert.Equal("ok", r.GetProperty("status").GetString());
                Assert.True(done.Add(r.GetProperty("id").GetGuid()), $"job {r.GetProperty("id")} ran twice on node B");
            }
        }
        output.WriteLine($"node B led {takeover.TotalSeconds:F2} s after the kill; the {Doomed} leases were back {reapedAfter.TotalSeconds:F2} s after it; " +
                         $"all {Total} jobs ran {sinceKill.Elapsed.TotalSeconds:F2} s after it");
        Assert.True(takeover < TimeSpan.FromSeconds(15), $"node B took {takeover} to lead");

        // Nothing lost, nothing run twice: from the database.
        await using var db = await TestPostgres.ConnectAsync(schema);
        var states = await QueryAsync(db, "SELECT id, state FROM jobs WHERE queue = @q", r => (Id: r.GetGuid(0), State: r.GetString(1)), ("q", Queue));
        Assert.True(all.ToHashSet().SetEquals(states.Select(s => s.Id)), "the jobs in the database are not the jobs enqueued");
        Assert.All(states, s => Assert.Equal("succeeded", s.State));
        // Each job's attempts as the store reports them (node B): the store writes some of them into the job's own row
        // rather than job_attempts (a successful last attempt outside limited queues, 014_attempts_written_once.sql).
        var attempts = new Dictionary<Guid, List<(AttemptRow Row, string? Error)>>();
        foreach (var id in all)
        {
            attempts[id] = [.. (await GetJobAsync(b.Client, id)).GetProperty("attempts").EnumerateArray().Select(x => (
                Row: new AttemptRow(id, x.GetProperty("number").GetInt32(), Nullable(x, "worker_id")?.GetGuid(), Ms(x.GetProperty("started_at")),
                    Nullable(x, "finished_at") is { } finished ? Ms(finished) : null, Nullable(x, "outcome")?.GetString()),
                Error: Nullable(x, "error")?.GetProperty("message").GetString()))];
        }
        foreach (var id in all)
        {
            var list = attempts[id];
            if (taken.Contains(id))
            {
                Assert.Equal(2, list.Count);
                var (first, error) = list[0];
                Assert.Equal(doomedWorker, first.WorkerId);
                Assert.NotEqual("succeeded", first.Outcome);
                Assert.True(error is "lease expired" or "worker lost", $"the first attempt failed with \"{error}\", not a lost lease: {first}");
                Assert.NotNull(first.FinishedAt);
                Assert.True(first.FinishedAt - first.StartedAt >= LeaseMs, $"the lease was taken back before it expired: {first}");
                Assert.Equal(survivor, list[1].Row.WorkerId);
                Assert.Equal("succeeded", list[1].Row.Outcome);
                Assert.True(list[1].Row.StartedAt >= first.FinishedAt, $"the second attempt started before the first ended: {list[0]} / {list[1]}");
            }
            else
            {
                var only = Assert.Single(list).Row;
                Assert.Equal(survivor, only.WorkerId);
                Assert.Equal("succeeded", only.Outcome);
            }
        }
    }

    // ------------------------------------------------------------------ readiness through a cut connection

    [SkippableFact]
    public async Task A_node_that_loses_its_database_is_not_ready_and_recovers()
    {
        var schema = await NewSchemaAsync();
        var database = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString);
        await using var forwarder = new TcpForwarder(database.Host!, database.Port);
        var viaForwarder = TestPostgres.InSchema(schema, b =>
        {
            b.Host = "127.0.0.1";
            b.Port = forwarder.Port;
            b.Timeout = 5;
        });
        var node = await StartNodeAsync("node A (behind a forwarder)", viaForwarder);
        Assert.Equal(HttpStatusCode.OK, await ReadyzAsync(node));
        Assert.True(forwarder.OpenConnections > 0, "the node holds no connection through the forwarder");

        // The database goes away: every relayed connection breaks, new ones are refused.
        var cut = Stopwatch.StartNew();
        forwarder.Stop();
        HttpStatusCode? last = null;
        var notReady = await KairosNodes.PollAsync(async () => (last = await ReadyzAsync(node)) == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20));
        Assert.True(notReady, $"/readyz answered {last?.ToString() ?? "nothing"} 20 s after the database went away.\n{node.Describe()}");
        var notReadyAfter = cut.Elapsed;
        Assert.False(node.HasExited, $"the node exited when the database went away.\n{node.Describe()}");

        // The database returns on the same address.
        var back = Stopwatch.StartNew();
        forwarder.Start();
        var ready = await KairosNodes.PollAsync(async () => (last = await ReadyzAsync(node)) == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.True(ready, $"/readyz answered {last?.ToString() ?? "nothing"} 30 s after the database returned.\n{node.Describe()}");
        var readyAfter = back.Elapsed;
        output.WriteLine($"/readyz said 503 {notReadyAfter.TotalSeconds:F2} s after the cut and 200 {readyAfter.TotalSeconds:F2} s after the database returned");

        // And it works again, through the database.
        var id = await node.Client.EnqueueAsync("after-outage", new { Back = true });
        await using var db = await TestPostgres.ConnectAsync(schema);
        var found = await QueryAsync(db, "SELECT state FROM jobs WHERE id = @id", r => r.GetString(0), ("id", id));
        Assert.Equal(["queued"], found);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>The jobs the database had running in one snapshot, taken between the wall-clock times <paramref name="Before"/> and <paramref name="After"/> (unix ms).</summary>
    private sealed record RunningSample(long Before, long After, HashSet<Guid> Running);

    /// <summary>Samples the running jobs of <paramref name="queue"/> until <paramref name="stop"/>, over one connection of its own.</summary>
    private static async Task<List<RunningSample>> SampleRunningAsync(string schema, string queue, CancellationToken stop)
    {
        var samples = new List<RunningSample>();
        await using var db = await TestPostgres.ConnectAsync(schema);
        await using var cmd = new NpgsqlCommand("SELECT id FROM jobs WHERE queue = @q AND state = 'running'", db);
        cmd.Parameters.AddWithValue("q", queue);
        await cmd.PrepareAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var running = new HashSet<Guid>();
            await using (var reader = await cmd.ExecuteReaderAsync(CancellationToken.None))
            {
                while (await reader.ReadAsync(CancellationToken.None)) running.Add(reader.GetGuid(0));
            }
            samples.Add(new RunningSample(before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), running));
            await Task.Yield();
        }
        return samples;
    }

    /// <summary>(attempt, snapshot) pairs where the attempt's record spans the whole snapshot but the snapshot does not have the job running.</summary>
    private static List<string> RecordedButNotRunning(IReadOnlyList<AttemptRow> attempts, IReadOnlyList<RunningSample> samples)
    {
        var found = new List<string>();
        var byStart = attempts.Where(a => a.FinishedAt is not null).OrderBy(a => a.StartedAt).ToList();
        if (byStart.Count == 0) return found;
        var longest = byStart.Max(a => a.FinishedAt!.Value - a.StartedAt);
        foreach (var sample in samples)
        {
            // The attempts that started more than 1 ms before the snapshot could have been taken (and not so long
            // before that they must have finished by then).
            var (lo, hi) = (0, byStart.Count);
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (byStart[mid].StartedAt < sample.Before - 1) lo = mid + 1;
                else hi = mid;
            }
            for (var i = lo - 1; i >= 0 && byStart[i].StartedAt >= sample.Before - longest - 2; i--)
            {
                var a = byStart[i];
                if (a.FinishedAt > sample.After + 1 && !sample.Running.Contains(a.JobId))
                {
                    found.Add($"{a} not running in the snapshot taken within [{sample.Before}, {sample.After}] ({sample.Running.Count} running then)");
                }
            }
        }
        return found;
    }

    private static JsonElement? Nullable(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static long Ms(JsonElement time) => time.GetDateTimeOffset().ToUnixTimeMilliseconds();

    private sealed record AttemptRow(Guid JobId, int Number, Guid? WorkerId, long StartedAt, long? FinishedAt, string? Outcome);

    private async Task<string> NewSchemaAsync()
    {
        _ = TestPostgres.ConnectionString; // skips, or fails when PostgreSQL is required, before anything starts
        var schema = await TestPostgres.CreateSchemaAsync();
        _schemas.Add(schema);
        return schema;
    }

    private async Task<KairosProcess> StartNodeAsync(string name, string connectionString, IReadOnlyDictionary<string, string>? environment = null)
    {
        var folder = Path.Combine(_root, name.Split(' ')[1] + "-" + Guid.NewGuid().ToString("N")[..8]);
        var process = KairosNodes.StartPostgresNode(kairos, name, folder, connectionString, AdminKey, environment);
        lock (_processes) _processes.Add(process);
        return await process.WaitUntilReadyAsync(AdminKey, StartTimeout);
    }

    /// <summary>A client of its own (its own connections) for a node, with the admin key.</summary>
    private static HttpClient NewClient(KairosProcess node)
    {
        var client = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    private static System.Net.Http.Json.JsonContent JsonContentOf(object body) =>
        System.Net.Http.Json.JsonContent.Create(body, body.GetType(), options: KairosApi.Json);

    private static async Task<JsonElement> GetJobAsync(HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"api/v1/jobs/{id}");
        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    /// <summary>The status of <c>/readyz</c>, or null when the node did not answer within 10 s.</summary>
    private static async Task<HttpStatusCode?> ReadyzAsync(KairosProcess node)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await node.Client.GetAsync("readyz", timeout.Token);
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync()) rows.Add(read(reader));
        return rows;
    }

    /// <summary>
    /// The most intervals [start, end) open at one instant, and the first instant it happens: a sweep over the ends and
    /// starts in time order, an end before a start at the same instant (the slot is free again when the next takes it).
    /// </summary>
    internal static (int Max, long At) MaxOverlap(IEnumerable<(long Start, long End)> intervals)
    {
        var points = new List<(long At, int Delta)>();
        foreach (var (start, end) in intervals)
        {
            points.Add((start, +1));
            points.Add((end, -1));
        }
        points.Sort((x, y) => x.At != y.At ? x.At.CompareTo(y.At) : x.Delta.CompareTo(y.Delta));
        int open = 0, max = 0;
        long at = 0;
        foreach (var (time, delta) in points)
        {
            open += delta;
            if (open > max)
            {
                max = open;
                at = time;
            }
        }
        return (max, at);
    }

    [Fact]
    public void Overlap_counts_an_end_and_a_start_at_one_instant_as_end_first()
    {
        Assert.Equal((1, 0L), MaxOverlap([(0, 10), (10, 20), (20, 30)]));
        Assert.Equal((2, 5L), MaxOverlap([(0, 10), (5, 20), (10, 15)]));
        Assert.Equal((3, 7L), MaxOverlap([(0, 10), (5, 20), (7, 8), (8, 9)]));
        Assert.Equal((0, 0L), MaxOverlap([]));
    }
}
