using System.Net;
using Kairos.Cli.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Kairos.Cli.Tests;

public sealed partial class ServerProcessTests
{
    /// <summary>
    /// A ping URL's path is its key: the JSON logs of a real server (with their scopes) must not carry it, not even on the
    /// error line of a ping the store could not record (the runs table renamed away in the SQLite file under the server).
    /// </summary>
    [Fact]
    public async Task The_json_logs_of_a_ping_the_store_could_not_record_do_not_carry_its_key()
    {
        var data = Folder("ping-logs");
        var server = await StartServerAsync("ping logs", data, environment: new Dictionary<string, string> { ["KAIROS_LOG_FORMAT"] = "json" });
        string key, orgKey;
        using (var created = await server.Client.PostJsonAsync("api/v1/monitors", new { Name = "backup", PeriodSeconds = 3600 }))
        {
            await KairosApi.EnsureStatusAsync(created, HttpStatusCode.Created);
            key = (await created.ReadJsonAsync()).GetProperty("ping_key").GetString()!;
        }
        using (var made = await server.Client.PostAsync("api/v1/monitors/ping-key", null))
        {
            await KairosApi.EnsureStatusAsync(made, HttpStatusCode.OK);
            orgKey = (await made.ReadJsonAsync()).GetProperty("ping_key").GetString()!;
        }

        using (var db = new SqliteConnection($"Data Source={Path.Combine(data, "kairos.db")};Pooling=False"))
        {
            db.Open();
            using var rename = db.CreateCommand();
            rename.CommandText = "ALTER TABLE monitor_runs RENAME TO monitor_runs_away";
            rename.ExecuteNonQuery();
        }
        using var pinger = new HttpClient { BaseAddress = server.BaseAddress };
        foreach (var path in new[] { $"ping/{key}/fail", $"ping/{orgKey}/backup/start" })
        {
            using var refused = await pinger.PostAsync(path, new StringContent("the job's log"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.True(await KairosNodes.PollAsync(() => Task.FromResult(server.Stdout.Count(l => l.Contains("Could not record a ping", StringComparison.Ordinal)) == 2),
            TimeSpan.FromSeconds(15)), "no error line for the two pings");
        var lines = server.Stdout.Where(l => l.Contains("Could not record a ping", StringComparison.Ordinal)).ToList();
        Assert.All(lines, l => Assert.Contains("\"request_id\"", l, StringComparison.Ordinal)); // the scopes are written
        Assert.All(lines, l => Assert.Contains("no such table: monitor_runs", l, StringComparison.Ordinal));
        Assert.DoesNotContain(server.Stdout.Concat(server.Stderr), l => l.Contains(key, StringComparison.Ordinal) || l.Contains(orgKey, StringComparison.Ordinal));
    }
}
