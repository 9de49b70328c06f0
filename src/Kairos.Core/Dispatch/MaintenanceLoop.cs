namespace Kairos.Core.Dispatch;

/// <summary>
/// The periodic work of a server: lost workers, expired leases, due scheduled and retrying jobs. It runs a pass, then
/// sleeps until the next known due time, a wake-up, or the interval.
/// </summary>
public sealed class MaintenanceLoop(Dispatcher dispatcher, MaintenanceClock clock, MaintenanceOptions options)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            MaintenancePass pass;
            DateTimeOffset? next = null;
            try
            {
                pass = await dispatcher.RunMaintenanceAsync(options.WorkerHeartbeatTimeout, cancellationToken);
                var due = await dispatcher.Store.Jobs.NextDueAsync(cancellationToken);
                next = due.NextRunAt;
                if (due.NextLeaseExpiry is { } exp && (next is null || exp < next)) next = exp;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                options.OnError?.Invoke(ex);
                pass = new MaintenancePass(0, 0, 0);
            }
            if (pass.Promoted >= 1000 || pass.ExpiredLeases >= 500)
            {
                continue; // more of the same is waiting
            }
            try
            {
                await clock.WaitAsync(next, options.Interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public sealed record MaintenanceOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan WorkerHeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public Action<Exception>? OnError { get; init; }
}
