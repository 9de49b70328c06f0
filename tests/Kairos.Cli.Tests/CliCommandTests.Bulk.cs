namespace Kairos.Cli.Tests;

public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Jobs_list_searches_and_bulk_commands_act_by_filter_or_ids_with_exit_codes()
    {
        var first = (await _server.RunAsync("jobs", "enqueue", "invoice.send", "--queue", "bulk-cli", "--payload", """{"to":"ada@example.com"}""", "--json")).Json();
        await _server.RunAsync("jobs", "enqueue", "report.build", "--queue", "bulk-cli", "--payload", """{"to":"grace@example.com"}""", "--json");

        var found = await _server.RunAsync("jobs", "list", "--search", "ada invoice", "--json");
        Ok(found);
        var item = Assert.Single(found.Json().GetProperty("items").EnumerateArray());
        Assert.Equal(first.GetProperty("id").GetString(), item.GetProperty("id").GetString());

        var cancelled = await _server.RunAsync("jobs", "bulk-cancel", "--queue", "bulk-cli", "--search", "report");
        Ok(cancelled);
        Assert.Contains("1 job(s) changed", cancelled.Stdout, StringComparison.Ordinal);
        var retried = await _server.RunAsync("jobs", "bulk-retry", first.GetProperty("id").GetString()!, "--json");
        Ok(retried);
        Assert.Equal(1, retried.Json().GetProperty("skipped").GetInt64());

        // Neither ids nor filters is a usage error; both too.
        Assert.Contains("--all", Failed(await _server.RunAsync("jobs", "bulk-delete"), 2), StringComparison.Ordinal);
        Assert.Contains("not both", Failed(await _server.RunAsync("jobs", "bulk-delete", first.GetProperty("id").GetString()!, "--queue", "x"), 2), StringComparison.Ordinal);
        Assert.Contains("q", Failed(await _server.RunAsync("jobs", "list", "--search", "!!"), 1), StringComparison.Ordinal);

        var deleted = await _server.RunAsync("jobs", "bulk-delete", "--queue", "bulk-cli", "--json");
        Ok(deleted);
        Assert.Equal(2, deleted.Json().GetProperty("count").GetInt64());
    }
}
