using System.Net;

namespace Kairos.Client;

/// <summary>
/// Every failure of a Kairos call: an RFC 7807 problem the server answered (<see cref="StatusCode"/> set), or the server
/// could not be reached (<see cref="StatusCode"/> null, the cause in <see cref="Exception.InnerException"/>).
/// </summary>
public sealed class KairosException : Exception
{
    public KairosException()
    {
    }

    public KairosException(string message) : base(message)
    {
    }

    public KairosException(string message, Exception innerException) : base(message, innerException)
    {
    }

    internal KairosException(HttpStatusCode? status, string? title, string? detail, string? problemType, string? requestId,
        IReadOnlyDictionary<string, string[]>? errors, Exception? inner = null)
        : base(detail ?? title ?? (status is { } s ? $"HTTP {(int)s}" : "the request failed"), inner)
    {
        StatusCode = status;
        Title = title;
        Detail = detail;
        ProblemType = problemType;
        RequestId = requestId;
        Errors = errors ?? new Dictionary<string, string[]>();
    }

    /// <summary>The HTTP status the server answered; null when no answer came.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The problem's title, e.g. "Not found".</summary>
    public string? Title { get; }

    /// <summary>The problem's detail: one line saying what went wrong.</summary>
    public string? Detail { get; }

    /// <summary>The problem's <c>type</c> URI.</summary>
    public string? ProblemType { get; }

    /// <summary>The server's request id, to find the request in its logs.</summary>
    public string? RequestId { get; }

    /// <summary>For validation problems: the fields and what is wrong with each.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = new Dictionary<string, string[]>();

    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;
    public bool IsConflict => StatusCode == HttpStatusCode.Conflict;

    /// <summary>A failure that may go away when tried again (no answer, 408, 429, 502, 503, 504).</summary>
    public bool IsTransient => StatusCode is null || IsTransientStatus(StatusCode.Value);

    internal static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
}
