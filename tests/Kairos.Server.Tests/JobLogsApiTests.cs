using System.Net;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary><c>GET /api/v1/jobs/{id}/logs</c>: lines after an id, pages, the job's state, bad input, other organizations.</summary>
public sealed class JobLogsApiTests() : ApiTest(fakeTime: false)
{
    private Task<JsonElement> AppendAsync(Leased run, params string[] lines) =>
        Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines }).Expect(HttpStatusCode.OK);

    private Task<JsonElement> ReadAsync(string id, string query = "") => Admin.GetAsync($"/api/v1/jobs/{id}/logs{query}").Expect(HttpStatusCode.OK);

    private static string[] Lines(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(l => l.Str("line")).ToArray();

    private static long LastId(JsonElement page) => page.GetProperty("items").EnumerateArray().Last().GetProperty("id").GetInt64();

    [Fact]
    public async Task Lines_come_oldest_first_in_pages_and_after_an_id_only_the_new_ones()
    {
        var run = await StartJobAsync();
        await AppendAsync(run, "one", "two", "three");
        await AppendAsync(run, "four", "five");

        var first = await ReadAsync(run.Id, "?limit=2");
        Assert.Equal(["one", "two"], Lines(first));
        Assert.Equal("running", first.Str("job_state"));
        var line = first.GetProperty("items")[0];
        Assert.True(line.GetProperty("id").GetInt64() > 0);
        Assert.Equal(1, line.GetProperty("attempt").GetInt32());
        Assert.EndsWith("Z", line.Str("at"), StringComparison.Ordinal);
        var cursor = first.Str("next_cursor");

        var second = await ReadAsync(run.Id, $"?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(["three", "four"], Lines(second));
        var rest = await ReadAsync(run.Id, $"?after={LastId(second)}");
        Assert.Equal(["five"], Lines(rest));
        Assert.True(rest.IsNull("next_cursor"));

        // A follower asks again after the last id it saw and gets what came since, nothing twice.
        var caughtUp = await ReadAsync(run.Id, $"?after={LastId(rest)}");
        Assert.Empty(Lines(caughtUp));
        Assert.True(caughtUp.IsNull("next_cursor"));
        await AppendAsync(run, "six");
        Assert.Equal(["six"], Lines(await ReadAsync(run.Id, $"?after={LastId(rest)}")));

        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        var done = await ReadAsync(run.Id);
        Assert.Equal("succeeded", done.Str("job_state"));
        Assert.Equal(["one", "two", "three", "four", "five", "six"], Lines(done));
    }

    [Fact]
    public async Task A_job_without_lines_answers_an_empty_page_with_its_state()
    {
        var job = await EnqueueAsync();
        var page = await ReadAsync(job.Str("id"));
        Assert.Empty(Lines(page));
        Assert.True(page.IsNull("next_cursor"));
        Assert.Equal("queued", page.Str("job_state"));
    }

    [Theory]
    [InlineData("?after=-1", "after")]
    [InlineData("?after=abc", "after")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?cursor=bm90LWEtY3Vyc29y", "cursor")]
    [InlineData("?cursor=%%%", "cursor")]
    [InlineData("?after=1&cursor=bDox", "after")]
    public async Task Bad_paging_answers_400_naming_the_field(string query, string field)
    {
        var job = await EnqueueAsync();
        await Admin.GetAsync($"/api/v1/jobs/{job.Str("id")}/logs{query}").ExpectProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task An_unknown_job_or_one_of_another_organization_answers_404()
    {
        var run = await StartJobAsync();
        await AppendAsync(run, "secret");
        var other = await OtherOrganizationAsync(Kairos.Core.Auth.ApiKeyScopes.Read);

        await other.GetAsync($"/api/v1/jobs/{run.Id}/logs").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/v1/jobs/{Guid.NewGuid()}/logs").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/jobs/not-an-id/logs").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_read_key_may_read_logs()
    {
        var run = await StartJobAsync();
        await AppendAsync(run, "visible");
        var reader = Client(await CreateKeyAsync("read"));
        var page = await reader.GetAsync($"/api/v1/jobs/{run.Id}/logs").Expect(HttpStatusCode.OK);
        Assert.Equal(["visible"], Lines(page));
        await Client(null).GetAsync($"/api/v1/jobs/{run.Id}/logs").ExpectProblem(HttpStatusCode.Unauthorized);
    }
}
