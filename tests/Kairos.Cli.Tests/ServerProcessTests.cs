using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kairos.Cli.Tests;

/// <summary>
/// The published <c>kairos server</c> as a real process over real HTTP: durability across kill -9, long-poll
/// latency, graceful SIGTERM, and the command line. Every process a test starts is killed when the test ends.
/// </summary>
[Collection(KairosProcessCollection.Name)]
public sealed partial class ServerProcessTests(PublishedKairos kairos, ITestOutputHelper output) : IAsyncLifetime
{
    private const string AdminKey = "kx_cli_tests_admin_key_0123456789";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kairos-cli-tests", "run-" + Guid.NewGuid().ToString("N"));
    private readonly List<KairosProcess> _processes = [];

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
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    [Fact]
    public async Task Enqueued_jobs_survive_kill_9_at_a_random_moment()
    {
        const int Clients = 8;
        const int Rounds = 3;
        for (var round = 1; round <= Rounds; round++)
        {
            var data = Folder($"kill9-{round}");
            var first = await StartServerAsync($"round {round} (killed)", data);

            var acknowledged = new ConcurrentDictionary<Guid, string>();
            var unexpected = new ConcurrentQueue<string>();
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stop = new CancellationTokenSource();

            async Task EnqueueUntilTheServerDiesAsync(int client)
            {
                for (var seq = 0; !stop.IsCancellationRequested; seq++)
                {
                    var marker = $"r{round}-c{client}-s{seq}-{Guid.NewGuid():N}";
                    try
                    {
                        using var response = await first.Client.PostJsonAsync("api/v1/jobs",
                            new { Queue = "durable", Type = "kill9.test", Payload = new { Marker = marker, Client = client, Seq = seq } });
                        if (!response.IsSuccessStatusCode)
                        {
                            unexpected.Enqueue($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                            continue;
                        }
                        var id = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
                        acknowledged[id] = marker;
                        if (acknowledged.Count >= 100) enough.TrySetResult();
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or JsonException)
                    {
                        return; // the server is gone: this request and any later one cannot have been acknowledged
                    }
                }
            }

            var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() => EnqueueUntilTheServerDiesAsync(c))).ToArray();

            // Kill at a random moment while enqueueing is in full swing: once 100 jobs are in (so the round cannot pass
            // vacuously), then a random 200-1500 ms later. The delay is the randomness of the kill, not a synchronisation.
            var clientsEnded = Task.WhenAll(clients);
            if (await Task.WhenAny(enough.Task, clientsEnded, Task.Delay(TimeSpan.FromSeconds(30))) != enough.Task)
            {
                Assert.Fail($"Round {round}: only {acknowledged.Count} jobs acknowledged before enqueueing stopped. {string.Join("; ", unexpected.Take(3))}");
            }
            var delayMs = Random.Shared.Next(200, 1501);
            await Task.Delay(delayMs);
            first.Kill();
            var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await clientsEnded.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(unexpected.IsEmpty, $"Round {round}: enqueues refused before the kill: {string.Join("; ", unexpected.Take(5))}");
            Assert.True(acknowledged.Count > 100, $"Round {round}: only {acknowledged.Count} jobs acknowledged");

            var second = await StartServerAsync($"round {round} (restarted)", data);
            var stored = await second.Client.ListAllJobIdsAsync("durable");
            var missing = acknowledged.Keys.Where(id => !stored.Contains(id)).ToList();
            Assert.True(missing.Count == 0,
                $"Round {round}: {missing.Count} of {acknowledged.Count} acknowledged jobs are gone after kill -9, e.g. {string.Join(", ", missing.Take(5))}");

            // A sample read one by one: the job is whole (its payload is the one that was sent) and still queued.
            foreach (var (id, marker) in acknowledged.OrderBy(_ => Random.Shared.Next()).Take(20))
            {
                using var response = await second.Client.GetAsync($"api/v1/jobs/{id}");
                await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
                var job = await response.ReadJsonAsync();
                Assert.Equal(marker, job.GetProperty("payload").GetProperty("marker").GetString());
                Assert.Equal("queued", job.GetProperty("state").GetString());
            }

            output.WriteLine($"round {round}: {acknowledged.Count} jobs acknowledged by {Clients} clients, killed (exit {exitCode}) " +
                $"{delayMs} ms after the 100th; {stored.Count} jobs in the store after restart, none missing");
            second.Kill();
            await second.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Blocked_fetch_returns_soon_after_an_enqueue()
    {
        const string Queue = "longpoll";
        var server = await StartServerAsync("long-poll", Folder("longpoll"));
        var client = server.Client;
        var worker = await client.RegisterWorkerAsync("long-poll-worker", Queue);
        var lastSeen = (await client.GetWorkerAsync(worker)).GetProperty("last_heartbeat_at").GetDateTimeOffset();

        var latencies = new List<double>();
        for (var sample = 0; sample < 5; sample++)
        {
            var fetch = client.FetchAsync(worker, Queue, waitMs: 30_000);
            var fetchDoneAt = WhenDone(fetch);
            lastSeen = await client.WaitUntilFetchIsWaitingAsync(worker, lastSeen, fetch, TimeSpan.FromSeconds(10));
            Assert.False(fetch.IsCompleted, "the fetch must still be waiting: nothing has been enqueued yet");

            var enqueueAt = Stopwatch.GetTimestamp();
            var id = await client.EnqueueAsync(Queue, new { Sample = sample });
            var enqueued = Stopwatch.GetElapsedTime(enqueueAt);

            using var response = await fetch.WaitAsync(TimeSpan.FromSeconds(5));
            var latency = Stopwatch.GetElapsedTime(enqueueAt, await fetchDoneAt);
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            var job = Assert.Single((await response.ReadJsonAsync()).GetProperty("jobs").EnumerateArray());
            Assert.Equal(id, job.GetProperty("id").GetGuid());
            Assert.Equal(1, job.GetProperty("attempt").GetInt32());

            // Generous (the target is 100 ms) but well under the 5 s recheck of a waiting fetch, so only the wake-up passes it.
            Assert.True(latency < TimeSpan.FromSeconds(2), $"the blocked fetch took {latency.TotalMilliseconds:F0} ms: it was not woken by the enqueue");
            latencies.Add(latency.TotalMilliseconds);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sample {sample}: fetch returned {latency.TotalMilliseconds:F1} ms after the enqueue request was sent (the enqueue itself took {enqueued.TotalMilliseconds:F1} ms)"));
        }
        latencies.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"enqueue -> blocked fetch returns: min {latencies[0]:F1} ms, median {latencies[latencies.Count / 2]:F1} ms, max {latencies[^1]:F1} ms (target 100 ms)"));
    }

    [Fact]
    public async Task Fetch_with_nothing_ready_returns_empty_after_wait_ms()
    {
        var server = await StartServerAsync("empty fetch", Folder("empty-fetch"));
        var worker = await server.Client.RegisterWorkerAsync("idle-worker", "nothing-here");

        var started = Stopwatch.GetTimestamp();
        using var response = await server.Client.FetchAsync(worker, "nothing-here", waitMs: 300).WaitAsync(TimeSpan.FromSeconds(5));
        var elapsed = Stopwatch.GetElapsedTime(started);

        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
        Assert.Empty((await response.ReadJsonAsync()).GetProperty("jobs").EnumerateArray());
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(250), $"an empty fetch with wait_ms 300 returned after only {elapsed.TotalMilliseconds:F0} ms");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"empty fetch with wait_ms 300 returned after {elapsed.TotalMilliseconds:F1} ms"));
    }

    [Fact]
    public async Task Sigterm_drains_and_closes_the_store_cleanly()
    {
        var data = Folder("sigterm");
        var server = await StartServerAsync("sigterm", data);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await server.Client.EnqueueAsync("drained", new { N = i }));

        // An in-flight long poll must be answered (empty), not cut off or left to hold the shutdown up.
        var worker = await server.Client.RegisterWorkerAsync("draining-worker", "idle");
        var before = (await server.Client.GetWorkerAsync(worker)).GetProperty("last_heartbeat_at").GetDateTimeOffset();
        var fetch = server.Client.FetchAsync(worker, "idle", waitMs: 30_000);
        await server.Client.WaitUntilFetchIsWaitingAsync(worker, before, fetch, TimeSpan.FromSeconds(10));

        var signalled = Stopwatch.GetTimestamp();
        await server.TerminateAsync();
        using (var response = await fetch.WaitAsync(TimeSpan.FromSeconds(15)))
        {
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            Assert.Empty((await response.ReadJsonAsync()).GetProperty("jobs").EnumerateArray());
        }
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        var stopping = Stopwatch.GetElapsedTime(signalled);
        Assert.True(exitCode == 0, $"SIGTERM should end the server with exit code 0, not {exitCode}.\n{server.Describe()}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SIGTERM -> exit 0 in {stopping.TotalMilliseconds:F0} ms"));

        // A clean close checkpoints the write-ahead log into the database file and removes it.
        Assert.False(File.Exists(Path.Combine(data, "kairos.db-wal")), "the store was not closed cleanly: kairos.db-wal is still there");
        var again = await StartServerAsync("sigterm (restarted)", data);
        foreach (var id in ids)
        {
            using var response = await again.Client.GetAsync($"api/v1/jobs/{id}");
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            Assert.Equal("queued", (await response.ReadJsonAsync()).GetProperty("state").GetString());
        }
    }

    [Fact]
    public async Task Server_prints_where_it_listens()
    {
        var data = Folder("prints");
        var server = await StartServerAsync("prints", data);

        var line = Assert.Single(server.Stdout, l => KairosProcess.ListeningPattern().IsMatch(l));
        var match = KairosProcess.ListeningPattern().Match(line);
        Assert.Equal("sqlite", match.Groups["store"].Value);
        Assert.Equal(Path.GetFullPath(data), match.Groups["data"].Value);
        Assert.Matches(@"^\d+\.\d+\.\d+", match.Groups["version"].Value);
        Assert.Equal("127.0.0.1", server.BaseAddress.Host);
        Assert.NotEqual(0, server.BaseAddress.Port); // --port 0 picks a free port, and the line gives the real one

        using var health = await server.Client.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(File.Exists(Path.Combine(data, "kairos.db")));
    }

    [Fact]
    public async Task Flags_override_environment_variables()
    {
        // The environment's port is held by this test: a server that used it instead of the flag could not start.
        using var envPortHolder = new TcpListener(IPAddress.Loopback, 0);
        envPortHolder.Start();
        var envPort = ((IPEndPoint)envPortHolder.LocalEndpoint).Port;
        var flagPort = FreePort();
        var envData = Folder("env-data");
        var flagData = Folder("flag-data");

        var server = await StartServerAsync("flags over env", flagData, ["--port", flagPort.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string>
            {
                ["KAIROS_PORT"] = envPort.ToString(CultureInfo.InvariantCulture),
                ["KAIROS_DATA"] = envData,
            },
            port: null);

        Assert.Equal(flagPort, server.BaseAddress.Port);
        using var health = await server.Client.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(File.Exists(Path.Combine(flagData, "kairos.db")));
        Assert.False(Directory.Exists(envData), "KAIROS_DATA was used although --data was given");
    }

    [Fact]
    public async Task Environment_variables_override_defaults()
    {
        var port = FreePort();
        var data = Folder("env-only");
        var server = Launch("env over defaults", new Dictionary<string, string>
        {
            ["KAIROS_ADMIN_API_KEY"] = AdminKey,
            ["KAIROS_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["KAIROS_DATA"] = data,
        }, "server");
        await server.WaitUntilReadyAsync(AdminKey, StartTimeout);

        Assert.Equal(port, server.BaseAddress.Port);
        Assert.True(File.Exists(Path.Combine(data, "kairos.db")));
        Assert.False(Directory.Exists(Path.Combine(_root, "kairos-data")), "the default data folder was used although KAIROS_DATA was set");
    }

    [Fact]
    public async Task Invalid_durability_flag_exits_non_zero_with_a_clear_error()
    {
        var data = Folder("bad-flag");
        var process = Launch("bad --durability", new Dictionary<string, string>(),
            "server", "--port", "0", "--data", data, "--durability", "sometimes");
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        var error = Assert.Single(process.Stderr, l => !string.IsNullOrWhiteSpace(l));
        Assert.StartsWith("kairos: ", error, StringComparison.Ordinal);
        Assert.Contains("sometimes", error, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Stdout, l => l.Contains("listening on", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(data, "kairos.db")), "the store was opened despite the invalid flag");
    }

    [Fact]
    public async Task Unreachable_database_exits_non_zero_with_one_line_naming_it_and_no_password()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        var process = Launch("unreachable postgres", new Dictionary<string, string>(),
            "server", "--port", "0", "--store", "postgres",
            "--database-url", $"Host=127.0.0.1;Port={port};Username=kairos;Password=s3cret-pw;Database=nowhere");
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        var error = Assert.Single(process.Stderr, l => !string.IsNullOrWhiteSpace(l));
        Assert.StartsWith("kairos: cannot open the postgres store", error, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Stdout.Concat(process.Stderr), l => l.Contains("s3cret-pw", StringComparison.Ordinal));
        Assert.DoesNotContain(process.Stdout, l => l.Contains("listening on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postgres_store_without_a_database_url_is_a_usage_error()
    {
        var process = Launch("postgres without url", new Dictionary<string, string>(), "server", "--port", "0", "--store", "postgres");
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        var error = Assert.Single(process.Stderr, l => !string.IsNullOrWhiteSpace(l));
        Assert.Contains("--database-url", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_durability_variable_exits_non_zero_with_one_error_line()
    {
        var data = Folder("bad-env");
        var process = Launch("bad KAIROS_DURABILITY", new Dictionary<string, string> { ["KAIROS_DURABILITY"] = "sometimes" },
            "server", "--port", "0", "--data", data);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        var error = Assert.Single(process.Stderr, l => !string.IsNullOrWhiteSpace(l));
        Assert.StartsWith("kairos: ", error, StringComparison.Ordinal);
        Assert.Contains("sometimes", error, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Stdout, l => l.Contains("listening on", StringComparison.Ordinal));
    }

    /// <summary>Starts <c>kairos server --port 0 --data FOLDER</c> with the admin key and waits until it is ready.</summary>
    private async Task<KairosProcess> StartServerAsync(
        string name, string data, string[]? extraArgs = null, Dictionary<string, string>? environment = null, string? port = "0")
    {
        var env = new Dictionary<string, string>(environment ?? []) { ["KAIROS_ADMIN_API_KEY"] = AdminKey };
        string[] args = port is null ? ["server", "--data", data] : ["server", "--port", port, "--data", data];
        var process = Launch(name, env, [.. args, .. extraArgs ?? []]);
        return await process.WaitUntilReadyAsync(AdminKey, StartTimeout);
    }

    private KairosProcess Launch(string name, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var process = KairosProcess.Start(kairos, name, _root, environment, args);
        _processes.Add(process);
        return process;
    }

    private string Folder(string name) => Path.Combine(_root, name);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<long> WhenDone(Task<HttpResponseMessage> task)
    {
        try
        {
            await task;
        }
        catch (HttpRequestException)
        {
            // The caller awaits the task itself and sees the error.
        }
        return Stopwatch.GetTimestamp();
    }
}
