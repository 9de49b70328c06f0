namespace Kairos.Client.Hosting;

/// <summary>
/// Runs jobs of one type. Registered with <c>AddHandler&lt;THandler, TPayload&gt;("type")</c> and resolved from DI in a
/// new scope for each job. Returning completes the job; throwing fails it (retried with backoff), a
/// <see cref="NonRetryableException"/> fails it for good.
/// </summary>
public interface IJobHandler<in TPayload>
{
    Task HandleAsync(TPayload payload, JobContext context);
}

/// <summary>A handler whose return value becomes the job's result.</summary>
public interface IJobHandler<in TPayload, TResult>
{
    Task<TResult> HandleAsync(TPayload payload, JobContext context);
}

/// <summary>Fails the job at once, whatever attempts it has left (bad input, a permanent refusal).</summary>
public class NonRetryableException : Exception
{
    public NonRetryableException()
    {
    }

    public NonRetryableException(string message) : base(message)
    {
    }

    public NonRetryableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>Fails this attempt and asks for the next one after <see cref="RetryIn"/> instead of the usual backoff.</summary>
public class RetryJobException : Exception
{
    public RetryJobException()
    {
    }

    public RetryJobException(string message) : base(message)
    {
    }

    public RetryJobException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public RetryJobException(string message, TimeSpan retryIn) : base(message)
    {
        RetryIn = retryIn;
    }

    public TimeSpan? RetryIn { get; }
}

/// <summary>Why a job's cancellation token fired.</summary>
public enum JobCancelReason
{
    /// <summary>Someone cancelled the job on the server.</summary>
    Cancelled,
    /// <summary>The job ran longer than its timeout.</summary>
    TimedOut,
    /// <summary>The worker lost the job's lease (expired, or handed to another worker): its outcome will not count.</summary>
    LeaseLost,
    /// <summary>The worker is shutting down and the job did not finish within the shutdown timeout.</summary>
    Shutdown,
}
