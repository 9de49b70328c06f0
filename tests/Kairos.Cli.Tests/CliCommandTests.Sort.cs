using System.Text.RegularExpressions;
using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Jobs_list_sorts_by_a_column_either_way_and_its_next_page_keeps_the_sort()
    {
        var ids = new Dictionary<int, string>();
        foreach (var priority in new[] { 1, 7, 3 })
        {
            var job = (await _server.RunAsync("jobs", "enqueue", "sort.me", "--queue", "sort-cli", "--priority", $"{priority}", "--json")).Json();
            ids[priority] = job.GetProperty("id").GetString()!;
        }
        string[] Listed(CliResult r) => [.. r.Json().GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!)];

        var byPriority = await _server.RunAsync("jobs", "list", "--queue", "sort-cli", "--sort", "-priority", "--json");
        Ok(byPriority);
        Assert.Equal([ids[7], ids[3], ids[1]], Listed(byPriority));
        var newest = await _server.RunAsync("jobs", "list", "--queue", "sort-cli", "--sort", "-created_at", "--json");
        Ok(newest);
        Assert.Equal([ids[3], ids[7], ids[1]], Listed(newest));

        // The table's hint for the next page carries the sort, without which the cursor is refused.
        var first = await _server.RunAsync("jobs", "list", "--queue", "sort-cli", "--sort", "priority", "--limit", "2");
        Ok(first);
        var more = Regex.Match(first.Stdout, @"More: kairos jobs list --sort=priority --cursor (\S+)");
        Assert.True(more.Success, first.Stdout);
        var rest = await _server.RunAsync("jobs", "list", "--queue", "sort-cli", "--sort=priority", "--cursor", more.Groups[1].Value, "--json");
        Ok(rest);
        Assert.Equal([ids[7]], Listed(rest));
        Assert.Contains("cursor", Failed(await _server.RunAsync("jobs", "list", "--queue", "sort-cli", "--cursor", more.Groups[1].Value), 1), StringComparison.Ordinal);

        Assert.Contains("sort", Failed(await _server.RunAsync("jobs", "list", "--sort", "payload"), 1), StringComparison.Ordinal);
    }
}
