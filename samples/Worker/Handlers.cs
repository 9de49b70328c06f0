using Kairos.Client.Hosting;

namespace Samples.Worker;

public sealed record SendEmail(string To, string Subject, string Body);

public sealed record ResizeImage(string Url, int Width);

public sealed record ResizeResult(string Url, int Width, string Output);

public interface IMailer
{
    Task SendAsync(SendEmail email, CancellationToken cancellationToken);
}

public sealed class ConsoleMailer(ILogger<ConsoleMailer> logger) : IMailer
{
    public Task SendAsync(SendEmail email, CancellationToken cancellationToken)
    {
        logger.LogInformation("Mail to {To}: {Subject}", email.To, email.Subject);
        return Task.CompletedTask;
    }
}

/// <summary>A handler is resolved from DI for each job, so it can take scoped services.</summary>
public sealed class SendEmailHandler(IMailer mailer) : IJobHandler<SendEmail>
{
    public async Task HandleAsync(SendEmail payload, JobContext context)
    {
        if (!payload.To.Contains('@', StringComparison.Ordinal))
        {
            // Retrying cannot fix a bad address: fail at once.
            throw new NonRetryableException($"'{payload.To}' is not an email address");
        }
        await context.LogAsync($"sending '{payload.Subject}' to {payload.To} (attempt {context.Attempt} of {context.MaxAttempts})");
        await mailer.SendAsync(payload, context.CancellationToken);
    }
}

/// <summary>Reports progress; its return value becomes the job's result.</summary>
public sealed class ResizeImageHandler : IJobHandler<ResizeImage, ResizeResult>
{
    public async Task<ResizeResult> HandleAsync(ResizeImage payload, JobContext context)
    {
        for (var step = 1; step <= 4; step++)
        {
            // The token fires when the job is cancelled on the server, times out, or the worker shuts down.
            await Task.Delay(TimeSpan.FromMilliseconds(100), context.CancellationToken);
            await context.ReportProgressAsync(step * 25, $"step {step} of 4", context.CancellationToken);
        }
        return new ResizeResult(payload.Url, payload.Width, $"{payload.Url}?w={payload.Width}");
    }
}
