using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary>GET /jobs?sort=: each sortable column both ways through the API, pages that keep the sort, bad sorts and cursors.</summary>
public sealed class JobsSortApiTests() : ApiTest(fakeTime: true)
{
    private async Task<List<string>> WalkAsync(string query, int limit)
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Admin.GetAsync($"/api/v1/jobs?{query}&limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))
                .Expect(HttpStatusCode.OK);
            var ids = page.Ids();
            Assert.InRange(ids.Length, 1, limit);
            seen.AddRange(ids);
            cursor = page.IsNull("next_cursor") ? null : page.Str("next_cursor");
            Assert.True(++pages <= 20, "the cursor never ends");
        }
        while (cursor is not null);
        return seen;
    }

    [Fact]
    public async Task Sort_orders_by_each_column_both_ways_and_its_pages_keep_the_order()
    {
        string At(TimeSpan from) => Time.GetUtcNow().Add(from).ToString("O", CultureInfo.InvariantCulture);
        var a = await EnqueueAsync(new { queue = "s", type = "t", priority = 1, run_at = At(TimeSpan.FromHours(2)) });
        var b = await EnqueueAsync(new { queue = "s", type = "t", priority = 9 });
        Time.Advance(TimeSpan.FromSeconds(1));
        var c = await EnqueueAsync(new { queue = "s", type = "t", priority = 1, run_at = At(TimeSpan.FromHours(1)) });
        var d = await EnqueueAsync(new { queue = "s", type = "t", priority = 1 });
        var leased = Assert.Single(await FetchAsync(await RegisterWorkerAsync(null, "s"), "s", 1));
        Assert.Equal(b.Str("id"), leased.Str("id"));                // the highest priority of the due ones
        Time.Advance(TimeSpan.FromSeconds(1));
        await Admin.PostJsonAsync($"/api/v1/jobs/{leased.Str("id")}/ack", new { lease_token = leased.Str("lease_token") }).Expect(HttpStatusCode.OK);
        string[] Ids(params JsonElement[] jobs) => [.. jobs.Select(j => j.Str("id"))];

        Assert.Equal(Ids(d, c, b, a), await WalkAsync("sort=-created_at", 1));
        Assert.Equal(Ids(a, b, c, d), await WalkAsync("sort=created_at", 3));
        Assert.Equal(Ids(b, d, c, a), await WalkAsync("sort=run_at", 2));
        Assert.Equal(Ids(a, c, d, b), await WalkAsync("sort=-run_at", 2));
        Assert.Equal(Ids(b, d, c, a), await WalkAsync("sort=-priority", 1));         // ties newest first
        Assert.Equal(Ids(a, c, d, b), await WalkAsync("sort=priority", 2));
        Assert.Equal(Ids(b, a, c, d), await WalkAsync("sort=finished_at", 1));       // the unfinished last, both ways
        Assert.Equal(Ids(b, d, c, a), await WalkAsync("sort=-finished_at", 3));
        Assert.Equal(Ids(b, d, c, a), await WalkAsync("sort=-attempt", 2));
        Assert.Equal(Ids(a, c), await WalkAsync("sort=-run_at&state=scheduled&queue=s", 1));
    }

    [Theory]
    [InlineData("sort=sideways")]
    [InlineData("sort=created")]
    [InlineData("sort=--run_at")]
    [InlineData("sort=%2Bpriority")]
    [InlineData("sort=payload")]
    [InlineData("sort=-")]
    public async Task A_sort_that_is_not_a_sortable_column_answers_400_naming_sort(string query)
    {
        await EnqueueAsync();
        var problem = await Admin.GetAsync("/api/v1/jobs?" + query).ExpectProblem(HttpStatusCode.BadRequest, "sort");
        Assert.Contains("created_at, run_at, finished_at, priority, attempt", problem.GetProperty("errors").GetProperty("sort")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cursor_of_another_sort_answers_400_naming_cursor()
    {
        for (var i = 0; i < 3; i++) await EnqueueAsync(new { queue = "q", type = "t", priority = i });
        var page = await Admin.GetAsync("/api/v1/jobs?sort=priority&limit=1").Expect(HttpStatusCode.OK);
        var cursor = Uri.EscapeDataString(page.Str("next_cursor"));

        foreach (var other in new[] { "", "&sort=-priority", "&sort=-created_at", "&sort=run_at" })
        {
            var problem = await Admin.GetAsync($"/api/v1/jobs?limit=1&cursor={cursor}{other}").ExpectProblem(HttpStatusCode.BadRequest, "cursor");
            Assert.Contains("sort=priority", problem.GetProperty("errors").GetProperty("cursor")[0].GetString(), StringComparison.Ordinal);
        }
        var next = await Admin.GetAsync($"/api/v1/jobs?sort=priority&limit=1&cursor={cursor}").Expect(HttpStatusCode.OK);
        Assert.Single(next.Ids());
    }
}
