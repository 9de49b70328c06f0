using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

public sealed partial class ServerProcessTests
{
    /// <summary>
    /// An every-second schedule on a server that is killed (SIGKILL) at a random moment of a second, again and again,
    /// and restarted on the same data: every fire time from the first to the last has exactly one job. Beside it an
    /// every-second schedule whose template is a workflow: every fire time has exactly one instance.
    /// </summary>
    [Fact]
    public async Task Each_fire_time_of_a_schedule_runs_exactly_once_across_kill_9_restarts()
    {
        const int Kills = 4;
        var data = Folder("schedule-kill9");
        var server = await StartServerAsync("schedules (first start)", data);
        await TickSchedule.CreateAsync(server.Client);
        await TickSchedule.CreateWorkflowAsync(server.Client);
        for (var kill = 0; kill <= Kills; kill++)
        {
            using var stop = new CancellationTokenSource();
            var acker = Task.Run(() => TickSchedule.AckUntilStoppedAsync(server.Client, stop.Token));
            // A few fire times in this life, then the kill at a random moment of the second.
            await TickSchedule.WaitForFireAsync(server.Client, DateTimeOffset.UtcNow.AddSeconds(2), TimeSpan.FromSeconds(60));
            if (kill < Kills)
            {
                var delayMs = Random.Shared.Next(0, 1_000);
                await Task.Delay(delayMs); // the randomness of the kill, not a synchronisation
                server.Kill();
                await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
                output.WriteLine($"kill {kill + 1}: {delayMs} ms into a second");
            }
            await stop.CancelAsync();
            await acker;
            if (kill < Kills) server = await StartServerAsync($"schedules (restart {kill + 1})", data);
        }
        var fired = await TickSchedule.AssertEachFireTimeOnceAsync(server.Client);
        Assert.True(fired >= 3 * (Kills + 1), $"only {fired} fire times ran");
        output.WriteLine($"{fired} fire times over {Kills} kills, each with exactly one job");
        var flows = await TickSchedule.AssertEachWorkflowFireTimeOnceAsync(server.Client);
        Assert.True(flows >= 3 * (Kills + 1), $"only {flows} workflow fire times ran");
        output.WriteLine($"{flows} workflow fire times over {Kills} kills, each with exactly one instance");
    }
}
