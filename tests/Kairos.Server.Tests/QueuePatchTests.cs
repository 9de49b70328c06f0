using System.Net;
using System.Text;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary><c>PATCH /api/v1/queues/{name}</c> changes only the settings named; <c>PUT</c> still replaces them all.</summary>
public sealed class QueuePatchTests() : ApiTest(fakeTime: true)
{
    private Task<JsonElement> PatchAsync(string name, string body, HttpStatusCode status = HttpStatusCode.OK, string contentType = "application/merge-patch+json") =>
        Admin.PatchAsync($"/api/v1/queues/{name}", new StringContent(body, Encoding.UTF8, contentType)).Expect(status);

    private static int? Int(JsonElement queue, string name) => queue.GetProperty(name).ValueKind == JsonValueKind.Null ? null : queue.GetProperty(name).GetInt32();

    private Task<JsonElement> FullySetAsync(string name) => Admin.PutJsonAsync($"/api/v1/queues/{name}", new
    {
        concurrency_limit = 2,
        rate_limit = new { limit = 10, period_ms = 1000 },
        default_max_attempts = 3,
        default_timeout_ms = 5000,
    }).Expect(HttpStatusCode.OK);

    [Fact]
    public async Task Patch_changes_the_named_settings_and_keeps_the_others()
    {
        await FullySetAsync("mail");

        var patched = await PatchAsync("mail", """{"concurrency_limit":9}""");
        Assert.Equal(9, Int(patched, "concurrency_limit"));
        Assert.Equal(10, patched.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        Assert.Equal(3, Int(patched, "default_max_attempts"));
        Assert.Equal(5000, Int(patched, "default_timeout_ms"));

        var rate = await PatchAsync("mail", """{"rate_limit":{"limit":5,"period_ms":60000},"unknown_field":true}""", contentType: "application/json");
        Assert.Equal(5, rate.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        Assert.Equal(60000, rate.GetProperty("rate_limit").GetProperty("period_ms").GetInt32());
        Assert.Equal(9, Int(rate, "concurrency_limit"));

        var read = await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK);
        Assert.Equal(9, Int(read, "concurrency_limit"));
        Assert.Equal(3, Int(read, "default_max_attempts"));
    }

    [Fact]
    public async Task Null_clears_a_setting_and_an_empty_patch_changes_nothing()
    {
        await FullySetAsync("mail");

        var cleared = await PatchAsync("mail", """{"rate_limit":null,"default_timeout_ms":null}""");
        Assert.True(cleared.IsNull("rate_limit"));
        Assert.True(cleared.IsNull("default_timeout_ms"));
        Assert.Equal(2, Int(cleared, "concurrency_limit"));
        Assert.Equal(3, Int(cleared, "default_max_attempts"));

        var same = await PatchAsync("mail", "{}");
        Assert.Equal(2, Int(same, "concurrency_limit"));
        Assert.Equal(3, Int(same, "default_max_attempts"));
        Assert.True(same.IsNull("rate_limit"));
    }

    [Fact]
    public async Task Patch_creates_a_missing_queue_with_only_the_named_settings()
    {
        var created = await PatchAsync("fresh", """{"default_max_attempts":4}""");
        Assert.Equal("fresh", created.Str("name"));
        Assert.Equal(4, Int(created, "default_max_attempts"));
        Assert.True(created.IsNull("concurrency_limit"));
        Assert.True(created.IsNull("rate_limit"));
        Assert.Equal(4, (await EnqueueAsync("fresh")).GetProperty("max_attempts").GetInt32());
    }

    [Fact]
    public async Task Put_still_replaces_every_setting()
    {
        await FullySetAsync("mail");
        var replaced = await Admin.PutJsonAsync("/api/v1/queues/mail", new { default_max_attempts = 8 }).Expect(HttpStatusCode.OK);
        Assert.Equal(8, Int(replaced, "default_max_attempts"));
        Assert.True(replaced.IsNull("concurrency_limit"));
        Assert.True(replaced.IsNull("rate_limit"));
        Assert.True(replaced.IsNull("default_timeout_ms"));
    }

    [Theory]
    [InlineData("""{"concurrency_limit":"5"}""", "concurrency_limit")]
    [InlineData("""{"concurrency_limit":1.5}""", "concurrency_limit")]
    [InlineData("""{"concurrency_limit":0}""", "concurrency_limit")]
    [InlineData("""{"default_max_attempts":1001}""", "default_max_attempts")]
    [InlineData("""{"default_timeout_ms":true}""", "default_timeout_ms")]
    [InlineData("""{"rate_limit":5}""", "rate_limit")]
    [InlineData("""{"rate_limit":{"limit":5}}""", "rate_limit.period_ms")]
    [InlineData("""{"rate_limit":{"limit":"5","period_ms":1000}}""", "rate_limit.limit")]
    [InlineData("""[1,2]""", "body")]
    public async Task Bad_settings_answer_400_naming_the_field_and_change_nothing(string body, string field)
    {
        await FullySetAsync("mail");
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        await Admin.PatchAsync("/api/v1/queues/mail", content).ExpectProblem(HttpStatusCode.BadRequest, field);
        var read = await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK);
        Assert.Equal(2, Int(read, "concurrency_limit"));
        Assert.Equal(10, read.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        Assert.Equal(3, Int(read, "default_max_attempts"));
        Assert.Equal(5000, Int(read, "default_timeout_ms"));
    }

    [Fact]
    public async Task Patch_needs_the_admin_scope()
    {
        await FullySetAsync("mail");
        var reader = Client(await CreateKeyAsync("read"));
        using var content = new StringContent("""{"concurrency_limit":1}""", Encoding.UTF8, "application/json");
        await reader.PatchAsync("/api/v1/queues/mail", content).ExpectProblem(HttpStatusCode.Forbidden);
        Assert.Equal(2, Int(await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK), "concurrency_limit"));
    }
}
