using System.Net;

namespace Kairos.Server.Tests;

/// <summary>GET /jobs?q=: full-text search through the API, with the filters, pages, bulk actions and bad queries.</summary>
public sealed class JobsSearchApiTests() : ApiTest(fakeTime: true)
{
    [Fact]
    public async Task Search_by_text_combines_with_filters_and_pages()
    {
        var ada = await EnqueueAsync(new { queue = "emails", type = "welcome.send", payload = new { to = "ada@example.com", plan = "pro" }, tags = new[] { "signup" } });
        var grace = await EnqueueAsync(new { queue = "emails", type = "welcome.send", payload = new { to = "grace@example.com", plan = "free" } });
        var invoice = await EnqueueAsync(new { queue = "billing", type = "invoice.send", payload = new { to = "ada@example.com" } });

        Assert.Equal([invoice.Str("id"), ada.Str("id")], (await Admin.GetAsync("/api/v1/jobs?q=ada").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal([ada.Str("id")], (await Admin.GetAsync("/api/v1/jobs?q=ada&queue=emails").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal([ada.Str("id")], (await Admin.GetAsync("/api/v1/jobs?q=signup%20welcome").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal([grace.Str("id")], (await Admin.GetAsync($"/api/v1/jobs?q={grace.Str("id")}").Expect(HttpStatusCode.OK)).Ids());
        Assert.Empty((await Admin.GetAsync("/api/v1/jobs?q=ada&state=running").Expect(HttpStatusCode.OK)).Ids());

        var first = await Admin.GetAsync("/api/v1/jobs?q=example&limit=2").Expect(HttpStatusCode.OK);
        Assert.Equal([invoice.Str("id"), grace.Str("id")], first.Ids());
        var next = await Admin.GetAsync($"/api/v1/jobs?q=example&limit=2&cursor={Uri.EscapeDataString(first.Str("next_cursor"))}").Expect(HttpStatusCode.OK);
        Assert.Equal([ada.Str("id")], next.Ids());
        Assert.True(next.IsNull("next_cursor"));

        // Another organization's search finds none of these.
        var other = await OtherOrganizationAsync();
        Assert.Empty((await other.GetAsync("/api/v1/jobs?q=ada").Expect(HttpStatusCode.OK)).Ids());
    }

    [Fact]
    public async Task Error_messages_are_searchable_and_a_bulk_retry_can_take_the_search()
    {
        var run = await StartJobAsync("sync");
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "Connection refused by crm.internal" }, retryable = false })
            .Expect(HttpStatusCode.OK);
        var other = await StartJobAsync("sync");
        await Admin.PostJsonAsync($"/api/v1/jobs/{other.Id}/fail", new { lease_token = other.Token, error = new { message = "Quota exceeded" }, retryable = false })
            .Expect(HttpStatusCode.OK);

        Assert.Equal([run.Id], (await Admin.GetAsync("/api/v1/jobs?q=refused%20crm").Expect(HttpStatusCode.OK)).Ids());
        var retried = await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { filter = new { q = "connection refused", state = "failed" } }).Expect(HttpStatusCode.OK);
        Assert.Equal(1, retried.GetProperty("count").GetInt64());
        Assert.Equal("queued", (await GetJobAsync(run.Id)).Str("state"));
        Assert.Equal("failed", (await GetJobAsync(other.Id)).Str("state"));
    }

    [Fact]
    public async Task A_query_without_words_or_too_long_is_a_problem_naming_q()
    {
        await Admin.GetAsync("/api/v1/jobs?q=%20-%20").ExpectProblem(HttpStatusCode.BadRequest, "q");
        await Admin.GetAsync($"/api/v1/jobs?q={new string('a', 1_001)}").ExpectProblem(HttpStatusCode.BadRequest, "q");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-delete", new { filter = new { q = "!!" } }).ExpectProblem(HttpStatusCode.BadRequest, "filter.q");
    }
}
