using System.Text.Json;

namespace Kairos.Client.Hosting;

/// <summary>
/// What a handler knows about the job it runs, and what it can tell the server while it runs. The
/// <see cref="CancellationToken"/> fires when the job is cancelled on the server, times out, loses its lease, or the
/// worker shuts down; <see cref="CancelReason"/> says which.
/// </summary>
public sealed class JobContext
{
    private readonly RunningJob _run;
    private readonly KairosClient _client;
    private readonly int _leaseMs;

    internal JobContext(RunningJob run, KairosClient client, Guid workerId, int leaseMs)
    {
        _run = run;
        _client = client;
        _leaseMs = leaseMs;
        WorkerId = workerId;
    }

    public Guid JobId => _run.Job.Id;
    public string Queue => _run.Job.Queue;
    public string Type => _run.Job.Type;

    /// <summary>1 for the first attempt.</summary>
    public int Attempt => _run.Job.Attempt;

    public int MaxAttempts => _run.Job.MaxAttempts;
    public int Priority => _run.Job.Priority;
    public IReadOnlyList<string> Tags => _run.Job.Tags;
    public DateTimeOffset CreatedAt => _run.Job.CreatedAt;
    public DateTimeOffset RunAt => _run.Job.RunAt;

    /// <summary>The job's timeout, after which its token fires.</summary>
    public TimeSpan? Timeout => _run.Job.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    /// <summary>The payload as it came.</summary>
    public JsonElement Payload => _run.Job.Payload;

    /// <summary>The worker running the job.</summary>
    public Guid WorkerId { get; }

    /// <summary>The workflow the job is a step of; null for a job of no workflow.</summary>
    public Guid? WorkflowId => _run.Job.WorkflowId;

    /// <summary>The job's step id within its workflow.</summary>
    public string? WorkflowStep => _run.Job.WorkflowStep;

    /// <summary>
    /// A workflow step's parents by step id, each with its state and result as of the fetch:
    /// <c>context.Parents["extract"].ResultAs&lt;Extracted&gt;()</c>. Empty for a root step and a job of no workflow.
    /// </summary>
    public IReadOnlyDictionary<string, WorkflowParent> Parents => _parents ??= ReadParents();

    private IReadOnlyDictionary<string, WorkflowParent>? _parents;

    /// <summary>The result of parent step <paramref name="step"/> read as <typeparamref name="T"/> (the client's payload options); throws <see cref="KeyNotFoundException"/> when it is not a parent.</summary>
    public T? ParentResult<T>(string step) =>
        Parents.TryGetValue(step, out var parent)
            ? parent.ResultAs<T>()
            : throw new KeyNotFoundException($"step \"{step}\" is not a parent of this job (its parents: {string.Join(", ", Parents.Keys)})");

    private Dictionary<string, WorkflowParent> ReadParents()
    {
        var parents = new Dictionary<string, WorkflowParent>(StringComparer.Ordinal);
        if (_run.Job.Parents is not { } given) return parents;
        foreach (var (step, parent) in given)
        {
            parent.PayloadOptions = _client.Options.PayloadSerializerOptions;
            parents[step] = parent;
        }
        return parents;
    }

    /// <summary>The lease this attempt holds; an outcome under another token does not count.</summary>
    public Guid LeaseToken => _run.Job.LeaseToken;

    /// <summary>Fires on server cancel, timeout, lease loss and worker shutdown.</summary>
    public CancellationToken CancellationToken => _run.Token;

    /// <summary>Why <see cref="CancellationToken"/> fired; null while it has not.</summary>
    public JobCancelReason? CancelReason => _run.Reason;

    /// <summary>Reports progress (0 to 100) and extends the lease. A cancel requested on the server fires the token.</summary>
    public async Task ReportProgressAsync(int percent, string? message = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        try
        {
            var result = await _client.HeartbeatJobAsync(JobId, LeaseToken, _leaseMs, new JobProgress { Percent = percent, Message = message }, cancellationToken);
            _run.Heartbeated();
            if (result.CancelRequested) _run.Cancel(JobCancelReason.Cancelled);
        }
        catch (KairosException ex) when (ex.IsConflict || ex.IsNotFound)
        {
            _run.Cancel(JobCancelReason.LeaseLost);
        }
    }

    /// <summary>Appends a line to the job's log.</summary>
    public Task LogAsync(string line, CancellationToken cancellationToken = default) => LogAsync([line], cancellationToken);

    /// <summary>Appends lines to the job's log (sent 1000 at a time).</summary>
    public async Task LogAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        try
        {
            foreach (var chunk in lines.Chunk(1000))
            {
                await _client.AppendLogsAsync(JobId, LeaseToken, chunk, cancellationToken);
            }
        }
        catch (KairosException ex) when (ex.IsConflict || ex.IsNotFound)
        {
            _run.Cancel(JobCancelReason.LeaseLost);
        }
    }
}

/// <summary>A job this worker holds (running, or waiting for a slot): its lease, its token, whether its outcome was reported.</summary>
internal sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reason = -1;
    private int _reported;

    public RunningJob(FetchedJob job, long heartbeatEveryMs)
    {
        Job = job;
        Token = _cts.Token;
        HeartbeatEveryMs = heartbeatEveryMs;
        FetchedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        Heartbeated();
    }

    public FetchedJob Job { get; }
    public CancellationToken Token { get; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the fetch that leased it.</summary>
    public long FetchedAt { get; }

    /// <summary>A slot took it (false while it waits in a buffer).</summary>
    public bool Started { get; set; }

    /// <summary>Completes once the worker holds the job no more.</summary>
    public Task Done => _done.Task;

    /// <summary><see cref="Environment.TickCount64"/> at which the next lease heartbeat is due.</summary>
    public long NextHeartbeatAt => Volatile.Read(ref _nextHeartbeatAt);

    private long _nextHeartbeatAt;

    public long HeartbeatEveryMs { get; }

    public JobCancelReason? Reason => Volatile.Read(ref _reason) is var r and >= 0 ? (JobCancelReason)r : null;

    public void Cancel(JobCancelReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) != -1) return;
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // it finished in between
        }
        catch (AggregateException)
        {
            // a cancellation callback of the handler threw; the handler sees the token anyway
        }
    }

    public void Heartbeated() => Volatile.Write(ref _nextHeartbeatAt, Environment.TickCount64 + HeartbeatEveryMs);

    /// <summary>True for the one caller that reports the outcome.</summary>
    public bool TryMarkReported() => Interlocked.Exchange(ref _reported, 1) == 0;

    /// <summary>The worker is done with the job.</summary>
    public void Finish()
    {
        Dispose();
        _done.TrySetResult();
    }

    public void Dispose() => _cts.Dispose();
}
