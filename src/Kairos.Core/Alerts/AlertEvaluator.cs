using System.Globalization;
using System.Text.Json;
using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workers;

namespace Kairos.Core.Alerts;

/// <summary>Sends what the evaluation decided to the rule's channels, and records how that went in the incident's history.</summary>
public interface IAlertNotifier
{
    /// <summary>The rule fired; <see cref="IncidentFiring.Notify"/> says whether the cool-down lets a notification out.</summary>
    Task FiredAsync(AlertRule rule, IncidentFiring firing, CancellationToken cancellationToken);

    /// <summary>The incident was resolved (a resolve notice goes out when the incident was ever notified).</summary>
    Task ResolvedAsync(AlertRule rule, Incident incident, CancellationToken cancellationToken);
}

/// <summary>The data of <c>alert.fired</c> and <c>alert.resolved</c>.</summary>
public sealed record AlertEventData(Guid IncidentId, string Rule, string Key, string Title, string? Summary, bool Opened, bool Notified);

/// <summary>
/// Evaluates alert rules, on the leader only (as the maintenance loop): a pass every <see cref="Interval"/> (sooner
/// after a job failed) judges the rules whose condition can be read from the store (job failures, failure rate, queue
/// backlog, lost workers, and the quiet time that ends a schedule misfire), and every domain event is looked at as it
/// comes for the rules that only events tell (<c>monitor.*</c>, <c>schedule.misfired</c>). The leader sees every
/// node's events (peers' are re-published to it), so each is acted on once across nodes. The state is the store's open
/// incidents: a restart, or a second node that believes it leads, fires into the same incident and the store's
/// cool-down decides the one notification. A crash loses only the event-driven signals that were in flight (a monitor
/// that went down while no node led opens its incident with its next <c>monitor.*</c> event).
/// </summary>
public sealed class AlertEvaluator(IKairosStore store, EventBus events, IAlertNotifier notifier, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>Workers with this label are Kairos' own (webhook deliveries): their loss is not alerted.</summary>
    public const string InternalLabel = "kairos.internal";

    public Action<Exception>? OnError { get; set; }

    /// <summary>Evaluates every enabled rule whose condition the store tells.</summary>
    public async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var rules = await store.Alerts.ListEnabledRulesAsync(cancellationToken);
        var windows = new Dictionary<Guid, IReadOnlyList<MaintenanceWindow>>();
        foreach (var rule in rules)
        {
            try
            {
                if (!windows.TryGetValue(rule.OrganizationId, out var w))
                {
                    windows[rule.OrganizationId] = w = await store.Alerts.ListWindowsAsync(new ListWindowsParams(rule.OrganizationId, time.GetUtcNow()), cancellationToken);
                }
                await EvaluateAsync(rule, w, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One rule that cannot be judged (its figures, a channel) does not hold up the others.
                OnError?.Invoke(ex);
            }
        }
    }

    private async Task EvaluateAsync(AlertRule rule, IReadOnlyList<MaintenanceWindow> windows, CancellationToken cancellationToken)
    {
        var d = rule.Definition;
        var now = time.GetUtcNow();
        var window = TimeSpan.FromMilliseconds(d.WindowMs);
        var org = rule.OrganizationId;
        List<Signal>? firing = [];
        switch (d.Kind)
        {
            case AlertRuleKind.JobFailed:
            {
                var counts = await store.Alerts.CountFinishedAsync(new CountFinishedParams(org, now - window, d.Queue, d.JobType), cancellationToken);
                if (counts.Failed >= (d.Threshold ?? 1))
                {
                    firing.Add(new Signal("jobs", $"{Plural(counts.Failed, "job")} failed{Scope(d)} in the last {Duration(window)}",
                        await RecentFailuresAsync(org, d, now - window, cancellationToken)));
                }
                break;
            }
            case AlertRuleKind.FailureRate:
            {
                var counts = await store.Alerts.CountFinishedAsync(new CountFinishedParams(org, now - window, d.Queue, d.JobType), cancellationToken);
                var total = counts.Succeeded + counts.Failed;
                var rate = total == 0 ? 0 : counts.Failed * 100.0 / total;
                if (total >= d.MinJobs && rate > d.RatePercent)
                {
                    firing.Add(new Signal("rate", $"{rate.ToString("0.#", CultureInfo.InvariantCulture)}% of jobs failed{Scope(d)} in the last {Duration(window)}",
                        $"{counts.Failed} failed, {counts.Succeeded} succeeded (threshold {d.RatePercent?.ToString(CultureInfo.InvariantCulture)}%)"));
                }
                break;
            }
            case AlertRuleKind.QueueBacklog:
                foreach (var q in await store.Alerts.BacklogAsync(new BacklogParams(org, d.Queue), cancellationToken))
                {
                    var age = q.OldestReadyAt is { } oldest ? now - oldest : TimeSpan.Zero;
                    var deep = d.Threshold is { } n && q.Ready > n;
                    var old = d.MaxAgeMs is { } max && age > TimeSpan.FromMilliseconds(max);
                    if (deep || old)
                    {
                        firing.Add(new Signal($"queue:{q.Queue}", deep
                                ? $"Queue {q.Queue} has {Plural(q.Ready, "ready job")} (more than {d.Threshold})"
                                : $"The oldest ready job of queue {q.Queue} waits for {Duration(age)}",
                            $"{q.Ready} ready, the oldest since {q.OldestReadyAt:yyyy-MM-dd'T'HH:mm:ss'Z'}"));
                    }
                }
                break;
            case AlertRuleKind.WorkerLost:
                foreach (var w in await store.Workers.ListAsync(new ListWorkersParams(org), cancellationToken))
                {
                    if (w.State != WorkerState.Lost || w.Registration.Labels.ContainsKey(InternalLabel)) continue;
                    firing.Add(new Signal($"worker:{w.Id}", $"Worker {w.Registration.Name} is lost",
                        $"host {w.Registration.Host ?? "?"}, queues {string.Join(", ", w.Registration.Queues)}, last heartbeat {w.LastHeartbeatAt:yyyy-MM-dd'T'HH:mm:ss'Z'}"));
                }
                break;
            case AlertRuleKind.ScheduleMisfire:
                // Fired by schedule.misfired; clears after a window without another misfire.
                firing = null;
                foreach (var open in await store.Alerts.ListOpenIncidentsAsync(new RuleIncidentsParams(org, rule.Id), cancellationToken))
                {
                    if (now - open.LastFiredAt >= window) await ResolveAsync(rule, open, $"no misfire for {Duration(window)}", cancellationToken);
                }
                break;
            default:
                firing = null; // event-driven only (monitors)
                break;
        }
        if (firing is null) return;
        var silenced = windows.Any(w => w.Covers(rule.Name, now));
        if (!silenced)
        {
            foreach (var s in firing) await FireAsync(rule, s, cancellationToken);
        }
        var keys = firing.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var open in await store.Alerts.ListOpenIncidentsAsync(new RuleIncidentsParams(org, rule.Id), cancellationToken))
        {
            if (!keys.Contains(open.Key)) await ResolveAsync(rule, open, "the condition cleared", cancellationToken);
        }
    }

    /// <summary>Acts on one domain event for the rules only events tell (monitors, schedule misfires). Others are ignored.</summary>
    public async Task HandleAsync(DomainEvent e, CancellationToken cancellationToken)
    {
        var isMonitor = e.Type.StartsWith("monitor.", StringComparison.Ordinal);
        if (!isMonitor && e.Type != "schedule.misfired") return;
        var data = e.Data is JsonElement j ? j : JsonSerializer.SerializeToElement(e.Data, AlertJson.Options);
        var rules = (await store.Alerts.ListEnabledRulesAsync(cancellationToken))
            .Where(r => r.OrganizationId == e.OrganizationId && r.Definition.Kind == (isMonitor ? AlertRuleKind.Monitor : AlertRuleKind.ScheduleMisfire))
            .ToList();
        if (rules.Count == 0) return;
        var windows = await store.Alerts.ListWindowsAsync(new ListWindowsParams(e.OrganizationId, time.GetUtcNow()), cancellationToken);
        var now = time.GetUtcNow();
        foreach (var rule in rules)
        {
            var d = rule.Definition;
            if (isMonitor)
            {
                var slug = Text(data, "slug") ?? Text(data, "name") ?? Text(data, "monitor_id") ?? "?";
                if (d.Monitor is { } only && only != slug) continue;
                var key = $"monitor:{slug}";
                var state = e.Type["monitor.".Length..];
                if (d.MonitorStates.Contains(state))
                {
                    if (windows.Any(w => w.Covers(rule.Name, now))) continue;
                    var name = Text(data, "name") ?? slug;
                    await FireAsync(rule, new Signal(key, $"Monitor {name} is {state.Replace('_', ' ')}", Text(data, "reason")), cancellationToken);
                }
                else if (state is "up" or "paused" or "deleted")
                {
                    foreach (var open in await store.Alerts.ListOpenIncidentsAsync(new RuleIncidentsParams(rule.OrganizationId, rule.Id), cancellationToken))
                    {
                        if (open.Key == key) await ResolveAsync(rule, open, $"the monitor is {state}", cancellationToken);
                    }
                }
            }
            else
            {
                var schedule = Text(data, "schedule") ?? "?";
                if (d.Schedule is { } only && only != schedule) continue;
                if (windows.Any(w => w.Covers(rule.Name, now))) continue;
                var missed = data.TryGetProperty("missed", out var m) && m.TryGetInt64(out var n) ? n : 0;
                var caughtUp = data.TryGetProperty("caught_up", out var c) && c.TryGetInt64(out var k) ? k : 0;
                await FireAsync(rule, new Signal($"schedule:{schedule}", $"Schedule {schedule} missed {Plural(missed, "fire time")}",
                    $"{caughtUp} caught up (catch_up {Text(data, "catch_up") ?? "?"}), first missed {Text(data, "first_missed_at")}, last missed {Text(data, "last_missed_at")}"),
                    cancellationToken);
            }
        }
    }

    /// <summary>Evaluates until cancelled (leadership lost, shutdown): a pass every <see cref="Interval"/>, every event as it comes.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var subscription = events.SubscribeAll(localOnly: false);
        try
        {
            var next = time.GetUtcNow();
            while (!cancellationToken.IsCancellationRequested)
            {
                if (time.GetUtcNow() is var started && started >= next)
                {
                    try
                    {
                        await EvaluateAsync(cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        OnError?.Invoke(ex);
                    }
                    // From when this pass started: a clock that moved on while it ran (past the next pass) is not skipped.
                    next = started + Interval;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(Max(next - time.GetUtcNow(), TimeSpan.Zero), time, wait.Token);
                var readable = subscription.Reader.WaitToReadAsync(wait.Token).AsTask();
                await Task.WhenAny(delay, readable);
                await wait.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
                while (subscription.Reader.TryRead(out var e))
                {
                    if (e.Type == "job.failed")
                    {
                        var soon = time.GetUtcNow() + AfterFailure;
                        if (soon < next) next = soon;
                    }
                    try
                    {
                        await HandleAsync(e, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        OnError?.Invoke(ex);
                    }
                }
                if (subscription.Reader.Completion.IsCompleted)
                {
                    // Fell behind and was closed by the bus: take a new subscription (what was missed is lost, as after a crash).
                    subscription.Dispose();
                    subscription = events.SubscribeAll(localOnly: false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            subscription.Dispose();
        }
    }

    private async Task FireAsync(AlertRule rule, Signal s, CancellationToken cancellationToken)
    {
        var firing = await store.Alerts.FireAsync(new FireIncidentParams(rule.OrganizationId, rule.Id, rule.Name, s.Key, s.Title, s.Summary,
            TimeSpan.FromMilliseconds(rule.Definition.CooldownMs)), cancellationToken);
        if (firing.Opened || firing.Notify)
        {
            events.Publish("alert.fired", rule.OrganizationId,
                new AlertEventData(firing.Incident.Id, rule.Name, s.Key, s.Title, s.Summary, firing.Opened, firing.Notify));
        }
        await notifier.FiredAsync(rule, firing, cancellationToken);
    }

    private async Task ResolveAsync(AlertRule rule, Incident open, string why, CancellationToken cancellationToken)
    {
        if (await store.Alerts.ResolveAsync(new ResolveIncidentParams(rule.OrganizationId, open.Id, why), cancellationToken) is not { } resolved) return;
        events.Publish("alert.resolved", rule.OrganizationId,
            new AlertEventData(resolved.Id, rule.Name, resolved.Key, resolved.Title, why, false, resolved.LastNotifiedAt is not null));
        await notifier.ResolvedAsync(rule, resolved, cancellationToken);
    }

    private async Task<string> RecentFailuresAsync(Guid org, AlertRuleDefinition d, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var page = await store.Jobs.ListAsync(new ListJobsParams(org) { State = JobState.Failed, Queue = d.Queue, Type = d.JobType, Limit = 20 }, cancellationToken);
        var lines = page.Items.Where(j => j.FinishedAt >= since).Take(3)
            .Select(j => $"{j.Type} {j.Id} in {j.Queue}: {Clip(j.LastError?.Message ?? "no error message", 200)}").ToList();
        return lines.Count == 0 ? "" : "Latest: " + string.Join("; ", lines);
    }

    private static string Scope(AlertRuleDefinition d) =>
        (d.Queue is { } q ? $" in queue {q}" : "") + (d.JobType is { } t ? $" of type {t}" : "");

    private static string? Text(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
            : null;

    private static string Plural(long n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>A duration in words: 90 s, 5 min, 2 h, 3 d.</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 120 ? $"{Math.Round(t.TotalSeconds)} s"
        : t.TotalMinutes < 120 ? $"{Math.Round(t.TotalMinutes)} min"
        : t.TotalHours < 48 ? $"{Math.Round(t.TotalHours)} h"
        : $"{Math.Round(t.TotalDays)} d";

    private sealed record Signal(string Key, string Title, string? Summary);
}
