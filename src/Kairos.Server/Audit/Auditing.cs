using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Audit;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;

namespace Kairos.Server.Audit;

/// <summary>Endpoint metadata: the audit action an unsafe endpoint records (<c>queue.pause</c>).</summary>
/// <param name="Name">The action; its part before the first dot is the target type unless <paramref name="TargetType"/> says otherwise.</param>
/// <param name="TargetType">The kind of object the route names (its one route parameter, or the created object).</param>
/// <param name="FailedName">The action recorded instead when the answer is an error (<c>auth.login_failed</c>).</param>
public sealed record AuditAction(string Name, string TargetType, string? FailedName);

/// <summary>Endpoint metadata: this unsafe endpoint records nothing in the audit log, and why.</summary>
public sealed record AuditExemption(string Reason);

/// <summary>
/// What an endpoint tells the audit log beyond what the request shows: who signed in (the caller is still anonymous
/// while it signs in), the target it created, the organizations the entry belongs to, and a few facts (never a
/// secret). Endpoints fill it through <see cref="AuditEndpoints.Audit"/>; the audit filter reads it after the endpoint ran.
/// </summary>
public sealed class AuditNote
{
    /// <summary>Who acted, when not the caller: the user a sign-in is for, or the email a failed one tried.</summary>
    public AuditActor? Actor { get; set; }
    /// <summary>The target, when the route does not name it.</summary>
    public string? TargetId { get; set; }
    /// <summary>The organizations the entry goes to (one entry each; null: server-level), when not the caller's current one.</summary>
    public IReadOnlyList<Guid?>? Organizations { get; set; }
    /// <summary>Small facts about the action: a new role, a key's scopes. Never a secret.</summary>
    public Dictionary<string, object?> Details { get; } = new(StringComparer.Ordinal);

    public AuditNote Detail(string name, object? value)
    {
        Details[name] = value;
        return this;
    }
}

/// <param name="Name">An email, or an API key's name and visible prefix: never a secret.</param>
public sealed record AuditActor(AuditActorType Type, Guid? Id, string? Name)
{
    public static AuditActor Of(User user) => new(AuditActorType.User, user.Id, user.Email);

    /// <summary>Someone who tried to sign in as <paramref name="email"/> (known or not).</summary>
    public static AuditActor Attempted(User? user, string? email) =>
        new(AuditActorType.User, user?.Id, user?.Email ?? (string.IsNullOrWhiteSpace(email) ? null : Clip(Emails.Normalize(email), 254)));

    internal static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>
/// The audit log's one place of writing. <see cref="RecordAudit"/> is installed once on the <c>/api/v1</c> group: every
/// unsafe endpoint (POST, PUT, PATCH, DELETE) gets a filter that, after the endpoint ran and before the answer is
/// written, appends an entry with the endpoint's <see cref="AuditAction"/> (declared with <see cref="Audited{TBuilder}"/>),
/// the caller (user or API key, from the request's principal, or the endpoint's <see cref="AuditNote"/>), the target
/// (the route's one parameter, or the id of what the endpoint created), the client address, the request id and the
/// answer's status. The append is awaited, so an answered request's entry is committed (on SQLite with the writes of the
/// moment, by the group-commit writer). Endpoints declared <see cref="NotAudited{TBuilder}"/> get no filter at all and pay nothing:
/// the worker protocol (fetch, ack, fail, heartbeats, logs, progress: far too frequent, data plane) and job enqueue.
/// An unsafe endpoint that declares neither still records, under an action made from its name; a test keeps that from happening.
/// </summary>
public static class AuditEndpoints
{
    public static TBuilder Audited<TBuilder>(this TBuilder builder, string action, string? targetType = null, string? failedAction = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AuditAction(action, targetType ?? action[..Math.Max(0, action.IndexOf('.', StringComparison.Ordinal))], failedAction));

    public static TBuilder NotAudited<TBuilder>(this TBuilder builder, string reason) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AuditExemption(reason));

    /// <summary>The request's note to the audit log (made on first use).</summary>
    public static AuditNote Audit(this HttpContext http)
    {
        if (http.Features.Get<AuditNote>() is { } note) return note;
        note = new AuditNote();
        http.Features.Set(note);
        return note;
    }

    /// <summary>Installs the audit filter on every unsafe endpoint of the group that is not <see cref="NotAudited{TBuilder}"/>.</summary>
    public static RouteGroupBuilder RecordAudit(this RouteGroupBuilder group)
    {
        ((IEndpointConventionBuilder)group).Add(endpoint => endpoint.FilterFactories.Add((context, next) =>
        {
            // Filter factories run when the endpoint's request delegate is made, after all its conventions: its
            // metadata (name, audit action) is complete here. Handing back next unchanged leaves the endpoint
            // without any filter pipeline (no cost at all for the worker protocol and for reads).
            if (Plan(endpoint) is not { } spec) return next;
            var recorder = context.ApplicationServices.GetRequiredService<AuditRecorder>();
            return async invocation =>
            {
                object? result;
                try
                {
                    result = await next(invocation);
                }
                catch (Exception ex)
                {
                    await recorder.RecordAsync(invocation.HttpContext, spec, AuditRecorder.StatusOf(ex, invocation.HttpContext), null);
                    throw;
                }
                await recorder.RecordAsync(invocation.HttpContext, spec, AuditRecorder.StatusOf(result, invocation.HttpContext), result);
                return result;
            };
        }));
        return group;
    }

    /// <summary>What the endpoint records; null when it records nothing (only safe methods, or declared not audited).</summary>
    internal static AuditSpec? Plan(EndpointBuilder endpoint)
    {
        var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().LastOrDefault()?.HttpMethods;
        if (methods is null || methods.All(m => HttpMethods.IsGet(m) || HttpMethods.IsHead(m) || HttpMethods.IsOptions(m))) return null;
        // The most specific declaration wins: the endpoint's own comes after its group's in the metadata.
        var declared = endpoint.Metadata.Where(m => m is AuditAction or AuditExemption).LastOrDefault();
        if (declared is AuditExemption) return null;
        var parameters = (endpoint as RouteEndpointBuilder)?.RoutePattern.Parameters;
        var routeParameter = parameters is { Count: 1 } ? parameters[0].Name : null;
        var action = declared as AuditAction ?? Fallback(endpoint);
        return new AuditSpec(action, routeParameter);
    }

    /// <summary>An action from the endpoint's name (<c>CreateSchedule</c> → <c>create_schedule</c>) for one that forgot to declare one.</summary>
    private static AuditAction Fallback(EndpointBuilder endpoint)
    {
        var name = endpoint.Metadata.OfType<IEndpointNameMetadata>().LastOrDefault()?.EndpointName ?? endpoint.DisplayName ?? "unknown";
        return new AuditAction(JsonNamingPolicy.SnakeCaseLower.ConvertName(name), "unknown", null);
    }
}

/// <summary>What an audited endpoint records, decided once when the endpoint is built.</summary>
internal sealed record AuditSpec(AuditAction Action, string? RouteParameter);

/// <summary>Builds the entries of an audited request, appends them to the store and logs one line each.</summary>
public sealed class AuditRecorder(IKairosStore store, TimeProvider time, ILogger<AuditRecorder> logger)
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> LocationProperties = new();

    internal async Task RecordAsync(HttpContext http, AuditSpec spec, int status, object? result)
    {
        var note = http.Features.Get<AuditNote>();
        var action = status >= 400 && spec.Action.FailedName is { } failed ? failed : spec.Action.Name;
        var actor = note?.Actor ?? ActorOf(http);
        var targetId = note?.TargetId
            ?? (spec.RouteParameter is { } p && http.Request.RouteValues.TryGetValue(p, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : null)
            ?? CreatedId(result);
        var details = note is { Details.Count: > 0 } ? JsonSerializer.Serialize(note.Details, Json.Options) : null;
        IReadOnlyList<Guid?> organizations = note?.Organizations is { Count: > 0 } orgs ? orgs : [CurrentOrganization(http)];
        var now = time.GetUtcNow();
        var entries = organizations.Select(org => new AuditEntry
        {
            Id = Ids.New(time),
            OrganizationId = org,
            Time = now,
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name is { } name ? AuditActor.Clip(name, 300) : null,
            Action = action,
            TargetType = spec.Action.TargetType,
            TargetId = targetId is null ? null : AuditActor.Clip(targetId, 300),
            Ip = http.Connection.RemoteIpAddress?.ToString(),
            RequestId = http.TraceIdentifier,
            Status = status,
            Details = details,
        }).ToList();
        try
        {
            // Not the request's token: the action happened, so its entry is written even if the client has gone.
            await store.Audit.AppendAsync(new AppendAuditParams(entries), CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not record the audit entry {Action} of {TargetType} {TargetId} ({Status})", action, spec.Action.TargetType, targetId, status);
            return;
        }
        // The actor's name stays out of the log (an email typed into a sign-in form may hold anything); its id is enough here.
        logger.LogInformation("Audit: {Action} {TargetType} {TargetId} by {ActorType} {ActorId} answered {Status}",
            action, spec.Action.TargetType, targetId, actor.Type.Name(), actor.Id, status);
    }

    /// <summary>The caller: the request's API key (its name and visible prefix) or session user (its email).</summary>
    internal static AuditActor ActorOf(HttpContext http)
    {
        if (http.User.Identity?.IsAuthenticated == true)
        {
            if (http.Items[typeof(ApiKey)] is ApiKey key) return new AuditActor(AuditActorType.ApiKey, key.Id, $"{key.Name} ({key.Prefix})");
            if (http.Items[typeof(SessionLookup)] is SessionLookup session) return AuditActor.Of(session.User);
        }
        return new AuditActor(AuditActorType.User, null, null);
    }

    private static Guid? CurrentOrganization(HttpContext http) =>
        Guid.TryParse(http.User.FindFirst(KairosClaims.Organization)?.Value, out var org) ? org : null;

    internal static int StatusOf(object? result, HttpContext http)
    {
        while (result is INestedHttpResult nested) result = nested.Result;
        return result switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } => code,
            IResult or null when http.Response.StatusCode != 0 => http.Response.StatusCode,
            _ => StatusCodes.Status200OK,
        };
    }

    internal static int StatusOf(Exception ex, HttpContext http) => ex switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        // The client went away before the answer (nginx's "client closed request").
        OperationCanceledException when http.RequestAborted.IsCancellationRequested => 499,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The last segment of a Created answer's Location: the id (or name) of what the endpoint created.</summary>
    private static string? CreatedId(object? result)
    {
        while (result is INestedHttpResult nested) result = nested.Result;
        if (result is null) return null;
        var property = LocationProperties.GetOrAdd(result.GetType(), t => t.GetProperty("Location", typeof(string)));
        return property?.GetValue(result) is string { Length: > 0 } location ? Uri.UnescapeDataString(location.TrimEnd('/')[(location.TrimEnd('/').LastIndexOf('/') + 1)..]) : null;
    }
}
