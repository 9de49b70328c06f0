using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

public sealed partial class MultiNodeTests
{
    /// <summary>
    /// Two nodes fire an every-second schedule; the leader is killed (SIGKILL) at a random moment of a second, the other
    /// node takes over, the killed one comes back as a follower, and so on: every fire time has exactly one job.
    /// </summary>
    [SkippableFact]
    public async Task Each_fire_time_runs_exactly_once_while_leaders_are_killed_and_replaced()
    {
        const int Kills = 2;
        var connectionString = TestPostgres.InSchema(await NewSchemaAsync());
        var leader = await StartNodeAsync("node A", connectionString);
        await leader.WaitForStdoutAsync(KairosNodes.LeadsLine, TimeSpan.FromSeconds(15));
        var follower = await StartNodeAsync("node B", connectionString);
        await TickSchedule.CreateAsync(follower.Client);
        for (var kill = 0; kill < Kills; kill++)
        {
            using var stop = new CancellationTokenSource();
            var acker = Task.Run(() => TickSchedule.AckUntilStoppedAsync(follower.Client, stop.Token));
            await TickSchedule.WaitForFireAsync(follower.Client, DateTimeOffset.UtcNow.AddSeconds(2), TimeSpan.FromSeconds(60));
            await Task.Delay(Random.Shared.Next(0, 1_000)); // the randomness of the kill, not a synchronisation
            leader.Kill();
            await leader.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await follower.WaitForStdoutAsync(KairosNodes.LeadsLine, TimeSpan.FromSeconds(30));
            await TickSchedule.WaitForFireAsync(follower.Client, DateTimeOffset.UtcNow.AddSeconds(1), TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await acker;
            (leader, follower) = (follower, await StartNodeAsync($"node {(char)('C' + kill)}", connectionString));
        }
        var fired = await TickSchedule.AssertEachFireTimeOnceAsync(follower.Client);
        output.WriteLine($"{fired} fire times over {Kills} leader kills, each with exactly one job");
    }
}
