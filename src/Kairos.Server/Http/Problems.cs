using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Http;

/// <summary>RFC 7807 answers. The problem details service adds <c>request_id</c> to each.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: $"{field}: {message}", title: "Invalid request");

    public static ValidationProblem Invalid(Validation v) =>
        TypedResults.ValidationProblem(v.Errors, detail: v.Summary, title: "Invalid request");
}

/// <summary>Collects field errors of one request.</summary>
public sealed class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Ok => _errors.Count == 0;

    public Dictionary<string, string[]> Errors => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public string Summary => string.Join("; ", _errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));

    public Validation Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    public void Required(string field, object? value)
    {
        if (value is null || value is string { Length: 0 }) Add(field, "is required");
    }

    public void Range(string field, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max)) Add(field, $"must be between {min} and {max}");
    }

    /// <summary>A name that addresses an object in a path (schedules, workflow templates): 1 to 200 letters, digits, '-', '_', '.' or ':', starting with a letter or digit.</summary>
    public void PathName(string field, string? value)
    {
        if (string.IsNullOrEmpty(value)) Add(field, "is required");
        else if (value.Length > 200 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':') || !char.IsAsciiLetterOrDigit(value[0]))
        {
            Add(field, "must be 1 to 200 letters, digits, '-', '_', '.' or ':', starting with a letter or digit");
        }
    }

    /// <summary>A required display name (an organization's, a user's): present, not blank, at most 200 characters, no control characters.</summary>
    public void RequiredName(string field, string? value)
    {
        Required(field, value);
        Name(field, value);
        if (value is { Length: > 0 } && string.IsNullOrWhiteSpace(value)) Add(field, "must not be blank");
    }

    public void Name(string field, string? value, int maxLength = 200)
    {
        if (value is null) return;
        if (value.Length == 0) Add(field, "must not be empty");
        else if (value.Length > maxLength) Add(field, $"must be at most {maxLength} characters");
        else if (value.Any(char.IsControl)) Add(field, "must not contain control characters");
    }
}
