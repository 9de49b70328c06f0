using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Core.Workers;

namespace Kairos.Storage.Tests;

/// <summary>
/// Long polling through the <see cref="Dispatcher"/> on each store: many fetchers wait, jobs are enqueued one at a
/// time, and every job must reach a fetcher through wake-ups alone. The fake clock never moves in these tests, so the
/// dispatcher's safety-net recheck (<see cref="Dispatcher.RecheckInterval"/>) never fires: a fetcher that slept
/// through a ready job would sleep for ever, and the job would never be leased. No test here measures time; the real
/// clock only bounds how long a broken dispatcher may hang the run.
/// </summary>
public abstract partial class StoreConformance
{
    [SkippableFact]
    public async Task Long_polling_fetchers_get_every_job_enqueued_one_at_a_time_without_a_recheck()
    {
        const int Fetchers = 40;
        const int JobCount = 300;
        const string Queue = "polled";
        var (dispatcher, leases) = CountingDispatcher();
        var workers = new List<Worker>();
        for (var i = 0; i < Fetchers; i++) workers.Add(await RegisterAsync($"poller-{i}", OrgA, Queue));

        var got = new ConcurrentDictionary<Guid, Guid>();
        var waiting = 0;
        using var stop = new CancellationTokenSource();
        async Task Poll(Worker worker)
        {
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<LeasedJob>? jobs;
                Interlocked.Increment(ref waiting);
                try
                {
                    jobs = await dispatcher.FetchAsync(new LeaseParams(OrgA, worker.Id, [Queue], 1, 600_000), TimeSpan.FromHours(1), stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                finally
                {
                    Interlocked.Decrement(ref waiting);
                }
                Assert.NotNull(jobs);
                foreach (var leased in jobs)
                {
                    Assert.True(got.TryAdd(leased.Job.Id, worker.Id), $"job {leased.Job.Id} was leased twice");
                    var ack = await dispatcher.AckAsync(new AckParams(OrgA, leased.Job.Id, leased.LeaseToken, null), None);
                    Assert.Equal(CommandStatus.Applied, ack.Status);
                }
            }
        }
        var polls = workers.Select(w => Task.Run(() => Poll(w))).ToList();
        await WaitForAsync(() => Volatile.Read(ref waiting) == Fetchers && leases.Count >= Fetchers, () => "every fetcher to start its long poll");

        var ids = new List<Guid>();
        for (var i = 0; i < JobCount; i++)
        {
            var result = await dispatcher.EnqueueAsync(OrgA, MakeJob(Queue, payload: $$"""{"i":{{i}}}"""), None);
            ids.Add(result.Job.Id);
            // Now and then let the fetchers settle into waiting, so that wake-ups meet both busy and idle fetchers.
            if (i % 10 == 9) await Task.Delay(5);
        }
        await WaitForAsync(() => got.Count == JobCount, () => $"all {JobCount} jobs to be leased (leased so far: {got.Count})");

        await stop.CancelAsync();
        await Task.WhenAll(polls).WaitAsync(ConcurrencyTimeout);
        Assert.Equal(Start, Time.GetUtcNow()); // no recheck could have fired
        Assert.Equal(ids.Order(), got.Keys.Order());
        foreach (var id in ids) Assert.Equal(JobState.Succeeded, (await GetJobAsync(id)).State);
        // Each job takes a look by the fetcher it woke and one by its fetcher coming back for more, plus a few that
        // races cost; wake-ups passed on after a look already settled them would circle the waiters without end.
        Assert.True(leases.Count <= 2 * Fetchers + 6 * JobCount,
            $"{leases.Count} store leases for {JobCount} jobs and {Fetchers} fetchers: wake-ups are circling the waiters");
    }

    [SkippableFact]
    public async Task Long_polling_fetchers_of_a_limited_queue_are_woken_when_a_slot_frees()
    {
        const int Limit = 2;
        const int Fetchers = 12;
        const int JobCount = 40;
        const string Queue = "polled-limited";
        await UpsertQueueAsync(Queue, new QueueSettings { ConcurrencyLimit = Limit });
        var (dispatcher, _) = CountingDispatcher();
        var workers = new List<Worker>();
        for (var i = 0; i < Fetchers; i++) workers.Add(await RegisterAsync($"limited-poller-{i}", OrgA, Queue));
        for (var i = 0; i < JobCount; i++) await dispatcher.EnqueueAsync(OrgA, MakeJob(Queue), None);

        // Fetchers hand each job to one acker and long-poll again at once, so they are mostly waiting, held back by the
        // limit, when a job ends: only the wake-up for the freed slot gets the next job going.
        var toAck = Channel.CreateUnbounded<LeasedJob>();
        var done = 0;
        var held = 0;
        var maxHeld = 0;
        using var stop = new CancellationTokenSource();
        async Task Poll(Worker worker)
        {
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<LeasedJob>? jobs;
                try
                {
                    jobs = await dispatcher.FetchAsync(new LeaseParams(OrgA, worker.Id, [Queue], 1, 600_000), TimeSpan.FromHours(1), stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                Assert.NotNull(jobs);
                foreach (var leased in jobs)
                {
                    UpdateMax(ref maxHeld, Interlocked.Increment(ref held));
                    await toAck.Writer.WriteAsync(leased, None);
                }
            }
        }
        async Task Ack()
        {
            await foreach (var leased in toAck.Reader.ReadAllAsync(stop.Token))
            {
                await Task.Delay(1, None);
                Interlocked.Decrement(ref held);
                Assert.Equal(CommandStatus.Applied, (await dispatcher.AckAsync(new AckParams(OrgA, leased.Job.Id, leased.LeaseToken, null), None)).Status);
                Interlocked.Increment(ref done);
            }
        }
        var polls = workers.Select(w => Task.Run(() => Poll(w))).ToList();
        var acker = Task.Run(Ack);
        await WaitForAsync(() => Volatile.Read(ref done) == JobCount, () => $"all {JobCount} jobs to run (done so far: {Volatile.Read(ref done)})");

        await stop.CancelAsync();
        await Task.WhenAll(polls).WaitAsync(ConcurrencyTimeout);
        await acker.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(ConcurrencyTimeout);
        Assert.Equal(Start, Time.GetUtcNow());
        Assert.True(maxHeld <= Limit, $"{maxHeld} jobs were held at once; the limit is {Limit}");
    }

    /// <summary>A dispatcher on the test's store and clock, and the store leases it made (one entry per call).</summary>
    private (Dispatcher Dispatcher, ConcurrentQueue<LeaseParams> Leases) CountingDispatcher()
    {
        var leases = new ConcurrentQueue<LeaseParams>();
        var store = StoreProxy.Wrap(Store, leases);
        return (new Dispatcher(store, new ReadySignal(), new EventBus(Time), new MaintenanceClock(Time), Time), leases);
    }

    /// <summary>Polls a condition on the real clock (the fake one stands still), failing after a generous while.</summary>
    private static async Task WaitForAsync(Func<bool> condition, Func<string> what)
    {
        using var timeout = new CancellationTokenSource(ConcurrencyTimeout);
        while (!condition())
        {
            if (timeout.IsCancellationRequested) Assert.Fail($"Gave up waiting for {what()}.");
            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>
    /// Forwards every call to the real store, and notes each <see cref="IJobStore.LeaseAsync"/> on the way (a
    /// <see cref="DispatchProxy"/>, so that it keeps up with the store interfaces as they grow).
    /// </summary>
    public class StoreProxy : DispatchProxy
    {
        private object _target = null!;
        private ConcurrentQueue<LeaseParams> _leases = null!;
        private IJobStore? _jobs;

        public static IKairosStore Wrap(IKairosStore store, ConcurrentQueue<LeaseParams> leases)
        {
            var proxy = Create<IKairosStore, StoreProxy>();
            var self = (StoreProxy)(object)proxy;
            self._target = store;
            self._leases = leases;
            var jobs = Create<IJobStore, StoreProxy>();
            ((StoreProxy)(object)jobs)._target = store.Jobs;
            ((StoreProxy)(object)jobs)._leases = leases;
            self._jobs = jobs;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (_jobs is not null && targetMethod.Name == "get_" + nameof(IKairosStore.Jobs)) return _jobs;
            if (targetMethod.Name == nameof(IJobStore.LeaseAsync) && args?[0] is LeaseParams p) _leases.Enqueue(p);
            try
            {
                return targetMethod.Invoke(_target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}
