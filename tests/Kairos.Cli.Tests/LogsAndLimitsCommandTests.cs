using System.Net;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kairos.Cli.Tests;

/// <summary>
/// <c>kairos jobs logs --follow</c> reads only the lines after the last one it printed, and <c>kairos queues
/// set-limits</c> changes only the settings it names in one PATCH: the published CLI against a real server, through a
/// proxy that records the calls.
/// </summary>
[Collection(KairosProcessCollection.Name)]
public sealed class LogsAndLimitsCommandTests(PublishedKairos kairos, ITestOutputHelper output) : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync(kairos);

    public async Task DisposeAsync()
    {
        foreach (var p in _server.Processes) output.WriteLine(p.Describe(lastLines: 10));
        await _server.DisposeAsync();
    }

    /// <summary>A proxy to the server; the calls it saw go to the test output when it is disposed.</summary>
    private RecordingProxy Proxy() => new(_server.BaseAddress, r => output.WriteLine($"{r.Method} {r.PathAndQuery} {r.Body}"));

    private static Dictionary<string, string> Through(RecordingProxy proxy) => new() { ["KAIROS_URL"] = proxy.Address.ToString().TrimEnd('/') };

    private async Task AppendAsync(Guid jobId, string? token, params string[] lines)
    {
        using var response = await _server.Api.PostJsonAsync($"api/v1/jobs/{jobId}/logs", new { LeaseToken = token, Lines = lines });
        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (deadline.IsCancellationRequested) throw new TimeoutException(what);
            await Task.Delay(20, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Logs_follow_asks_only_for_the_lines_after_the_last_one_it_printed()
    {
        var jobId = await _server.Api.EnqueueAsync("followed", new { n = 1 });
        var workerId = await _server.Api.RegisterWorkerAsync("log-writer", "followed");
        using var fetch = await _server.Api.FetchAsync(workerId, "followed", 5000);
        var token = (await fetch.ReadJsonAsync()).GetProperty("jobs")[0].GetProperty("lease_token").GetString();
        await AppendAsync(jobId, token, "one", "two", "three");
        await using var proxy = Proxy();

        var follow = _server.Start(["jobs", "logs", jobId.ToString(), "--follow", "--interval", "50ms", "--json"], Through(proxy));
        await WaitAsync(() => follow.Stdout.Count == 3, "the three lines already there are printed");
        var polls = proxy.Requests.Count;
        await WaitAsync(() => proxy.Requests.Count >= polls + 2, "it keeps asking while the job runs");
        await AppendAsync(jobId, token, "four", "five");
        await WaitAsync(() => follow.Stdout.Count == 5, "the new lines are printed");
        using (var ack = await _server.Api.PostJsonAsync($"api/v1/jobs/{jobId}/ack", new { LeaseToken = token }))
        {
            await KairosApi.EnsureStatusAsync(ack, HttpStatusCode.OK);
        }
        Assert.Equal(0, await follow.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var printed = follow.Stdout.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["one", "two", "three", "four", "five"], printed.Select(l => l.GetProperty("line").GetString()));
        Assert.All(printed, l => Assert.Equal(1, l.GetProperty("attempt").GetInt32()));
        var ids = printed.Select(l => l.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // Every call read the log from after the last line printed before it, never the whole job.
        var calls = proxy.Requests;
        Assert.All(calls, r => Assert.Equal("GET", r.Method));
        Assert.All(calls, r => Assert.StartsWith($"/api/v1/jobs/{jobId}/logs?", r.PathAndQuery, StringComparison.Ordinal));
        var afters = calls.Select(r => long.Parse(System.Web.HttpUtility.ParseQueryString(new Uri(proxy.Address, r.PathAndQuery).Query)["after"]!,
            System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(0, afters[0]);
        Assert.Equal(afters.Order(), afters);
        Assert.Single(afters, a => a == 0);
        Assert.Contains(ids[2], afters);
        Assert.Contains(ids[4], afters);
        Assert.All(afters, a => Assert.Contains(a, ids.Prepend(0)));
    }

    [Fact]
    public async Task Set_limits_sends_one_patch_of_the_named_settings_and_keeps_the_others()
    {
        using (var put = await _server.Api.PutAsync("api/v1/queues/patched", JsonContent(
                   """{"concurrency_limit":2,"rate_limit":{"limit":10,"period_ms":1000},"default_max_attempts":3,"default_timeout_ms":5000}""")))
        {
            await KairosApi.EnsureStatusAsync(put, HttpStatusCode.OK);
        }
        await using var proxy = Proxy();

        var concurrency = await _server.RunWithAsync(Through(proxy), "queues", "set-limits", "patched", "--concurrency", "9", "--json");
        Assert.True(concurrency.ExitCode == 0, concurrency.ToString());
        var q = concurrency.Json();
        Assert.Equal(9, q.GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(10, q.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        Assert.Equal(3, q.GetProperty("default_max_attempts").GetInt32());
        Assert.Equal(5000, q.GetProperty("default_timeout_ms").GetInt32());
        var call = Assert.Single(proxy.Requests);
        Assert.Equal(("PATCH", "/api/v1/queues/patched"), (call.Method, call.PathAndQuery));
        Assert.Equal("""{"concurrency_limit":9}""", call.Body);

        var cleared = await _server.RunWithAsync(Through(proxy), "queues", "set-limits", "patched", "--rate", "none", "--default-timeout", "10m", "--json");
        Assert.True(cleared.ExitCode == 0, cleared.ToString());
        // --json leaves out settings that are not set.
        Assert.False(cleared.Json().TryGetProperty("rate_limit", out var rate) && rate.ValueKind != JsonValueKind.Null, $"rate_limit is {rate}");
        Assert.Equal(600_000, cleared.Json().GetProperty("default_timeout_ms").GetInt32());
        Assert.Equal(9, cleared.Json().GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(3, cleared.Json().GetProperty("default_max_attempts").GetInt32());

        var refused = await _server.RunWithAsync(Through(proxy), "queues", "set-limits", "patched", "--concurrency", "0");
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("concurrency_limit", Assert.Single(refused.Stderr), StringComparison.Ordinal);
        var usage = await _server.RunWithAsync(Through(proxy), "queues", "set-limits", "patched", "--rate", "fast");
        Assert.True(usage.ExitCode == 2, usage.ToString());
        Assert.Equal(3, proxy.Requests.Count);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
