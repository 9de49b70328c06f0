namespace Kairos.Cli.Tests;

/// <summary><c>kairos webhooks list|create|test|deliveries|delete</c>.</summary>
public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Webhooks_create_list_test_and_delete()
    {
        var created = await _server.RunAsync("webhooks", "create", "https://hooks.example.com/kairos", "--event", "job.failed", "--event", "monitor.*", "--json");
        Ok(created);
        var json = created.Json();
        var id = json.GetProperty("id").GetString()!;
        var secret = json.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(["job.failed", "monitor.*"], json.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));

        var list = await _server.RunAsync("webhooks", "list");
        Ok(list);
        Assert.Contains(id, list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Stdout, StringComparison.Ordinal);

        var test = await _server.RunAsync("webhooks", "test", id, "--json");
        Ok(test);
        Assert.Equal("webhook.test", test.Json().GetProperty("event_type").GetString());
        var deliveries = await _server.RunAsync("webhooks", "deliveries", id);
        Ok(deliveries);
        Assert.Contains("webhook.test", deliveries.Stdout, StringComparison.Ordinal);

        var bad = await _server.RunAsync("webhooks", "create", "ftp://nope", "--event", "job.failed");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("url", string.Join("\n", bad.Stderr), StringComparison.Ordinal);

        Ok(await _server.RunAsync("webhooks", "delete", id));
        var after = await _server.RunAsync("webhooks", "list");
        Ok(after);
        Assert.Contains("No webhooks.", after.Stdout, StringComparison.Ordinal);
    }
}
