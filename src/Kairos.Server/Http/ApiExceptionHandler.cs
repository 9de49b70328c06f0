using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Kairos.Server.Http;

/// <summary>
/// Turns request-binding failures into RFC 7807 answers that name the field: a body that is not JSON, a field of the
/// wrong type (<c>$.jobs[3].priority</c> → <c>jobs[3].priority</c>), an oversized body (413).
/// </summary>
public sealed class ApiExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var http = httpContext;
        if (exception is not BadHttpRequestException bad) return false;
        var json = FindJsonException(bad);
        ProblemDetails details;
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            details = new ProblemDetails { Status = 413, Title = "Payload too large", Detail = "The request body is larger than this endpoint accepts." };
        }
        else if (json is not null)
        {
            var field = FieldName(json.Path);
            var message = field.Length == 0 || json.Path is null or "$"
                ? "the body is not valid JSON"
                : WrongType(json);
            if (field.Length == 0) field = "body";
            details = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
            {
                Status = 400,
                Title = "Invalid request",
                Detail = $"{field}: {message}",
            };
        }
        else
        {
            var message = bad.Message.Contains("body was provided", StringComparison.OrdinalIgnoreCase) || bad.Message.Contains("no body", StringComparison.OrdinalIgnoreCase)
                ? "a JSON body is required"
                : bad.Message;
            details = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["body"] = [message] })
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == 415 ? "Unsupported media type" : "Invalid request",
                Detail = message,
            };
        }
        http.Response.StatusCode = details.Status ?? 400;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details, Exception = exception });
    }

    private static JsonException? FindJsonException(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is JsonException j) return j;
        }
        return null;
    }

    /// <summary><c>$.jobs[3].queue</c> → <c>jobs[3].queue</c>.</summary>
    internal static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        var p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return p.Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal).TrimStart('.');
    }

    private static string WrongType(JsonException e) =>
        e.Message.Contains("could not be converted", StringComparison.Ordinal) ? "has the wrong type" :
        e.InnerException?.Message is { Length: > 0 } inner && !inner.Contains("could not be converted", StringComparison.Ordinal) ? inner :
        e.Message.StartsWith("must", StringComparison.Ordinal) ? e.Message : "is not valid here";
}
