using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Kairos.Server.Alerts;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Kairos.Server.Outbound;
using Kairos.Server.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>A webhook endpoint to create: a URL and the event types it gets (<c>job.failed</c>, <c>monitor.*</c>, <c>*</c>).</summary>
public sealed record WebhookRequest(string? Url, string? Description, List<string>? EventTypes);

/// <summary>Fields to change; those left out keep their value. <c>enabled: true</c> brings back an endpoint that was disabled after failing.</summary>
public sealed record WebhookPatchRequest(string? Url, string? Description, List<string>? EventTypes, bool? Enabled);

/// <summary>A webhook endpoint. The signing secret is only in the answer that created it (<see cref="WebhookCreatedDto"/>).</summary>
public sealed record WebhookDto(
    Guid Id, string Url, string? Description, IReadOnlyList<string> EventTypes, bool Enabled, string? DisabledReason, DateTimeOffset? FailingSince,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WebhookDto From(WebhookEndpoint e) =>
        new(e.Id, e.Url, e.Description, e.EventTypes, e.Enabled, e.DisabledReason, e.FailingSince, e.CreatedAt, e.UpdatedAt);
}

/// <summary>A new endpoint with its signing secret, shown this once.</summary>
public sealed record WebhookCreatedDto(
    Guid Id, string Url, string? Description, IReadOnlyList<string> EventTypes, bool Enabled, string Secret, DateTimeOffset CreatedAt);

public sealed record DeliveryAttemptDto(int Number, DateTimeOffset At, int? Status, long DurationMs, string? Response, string? Error, string RequestHeaders);

/// <summary>A delivery: the event sent, its state (<c>pending</c>, <c>succeeded</c>, <c>failed</c>), and (read alone) its body and every attempt.</summary>
public sealed record WebhookDeliveryDto(
    Guid Id, Guid WebhookId, string EventId, string EventType, string State, int Attempts, int? LastStatus, Guid? JobId,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, RawJson? Body, IReadOnlyList<DeliveryAttemptDto>? AttemptLog)
{
    public static WebhookDeliveryDto From(WebhookDelivery d, bool full = false) =>
        new(d.Id, d.EndpointId, d.EventId, d.EventType, d.State.ToWire(), d.AttemptCount, d.LastStatus, d.JobId, d.CreatedAt, d.UpdatedAt,
            full ? new RawJson(d.Body) : null,
            full ? [.. d.Attempts.Select(a => new DeliveryAttemptDto(a.Number, a.At, a.Status, a.DurationMs, a.Response, a.Error, a.RequestHeaders))] : null);
}

/// <summary>
/// Webhook endpoints and their delivery log: create (the secret shown once), list, read, change, delete, send a test
/// event, list and read deliveries, redeliver. Everything needs <c>webhooks.manage</c>.
/// </summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/webhooks").WithTags("Webhooks").RequireAuthorization(Policies.WebhooksManage);
        g.MapGet("/", List).WithName("ListWebhooks");
        g.MapPost("/", Create).WithName("CreateWebhook").Audited("webhook.create");
        g.MapGet("/{id}", Get).WithName("GetWebhook");
        g.MapPatch("/{id}", Patch).WithName("PatchWebhook").Audited("webhook.update");
        g.MapDelete("/{id}", Delete).WithName("DeleteWebhook").Audited("webhook.delete");
        g.MapPost("/{id}/test", Test).WithName("TestWebhook").Audited("webhook.test");
        g.MapGet("/{id}/deliveries", Deliveries).WithName("ListWebhookDeliveries");
        g.MapGet("/{id}/deliveries/{deliveryId}", Delivery).WithName("GetWebhookDelivery");
        g.MapPost("/{id}/deliveries/{deliveryId}/redeliver", Redeliver).WithName("RedeliverWebhook").Audited("webhook.redeliver", "webhook");
        return api;
    }

    public sealed record Deps(IKairosStore Store, WebhookService Service, SecretBox Box, ServerOptions Options, TimeProvider Time);

    private static void CheckUrl(string? url, Validation v, ServerOptions options)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) v.Add("url", "give an absolute http(s) URL");
        else if (url!.Length > 2000) v.Add("url", "must be at most 2000 characters");
        else if (OutboundHttp.RefuseUrl(url, options.OutboundAllowPrivate) is { } refused) v.Add("url", refused);
    }

    private static void CheckEvents(List<string>? events, Validation v)
    {
        if (events is not { Count: > 0 }) v.Add("event_types", "name one or more event types (job.failed, monitor.*, or * for all)");
        else if (events.Count > 100) v.Add("event_types", "at most 100");
        else if (events.FirstOrDefault(e => !WebhookEvents.IsValidPattern(e)) is { } bad) v.Add("event_types", $"'{bad}' is not an event type such as job.failed, job.* or *");
    }

    public static async Task<Results<Ok<ListResponse<WebhookDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Webhooks.ListEndpointsAsync(new ListEndpointsParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<WebhookDto>([.. page.Items.Select(WebhookDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Created<WebhookCreatedDto>, ValidationProblem>> Create(WebhookRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var v = new Validation();
        CheckUrl(request.Url, v, deps.Options);
        CheckEvents(request.EventTypes, v);
        v.Name("description", request.Description, 500);
        if (!v.Ok) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        var secret = WebhookSignature.NewSecret();
        var e = await deps.Store.Webhooks.CreateEndpointAsync(new CreateEndpointParams(org, request.Url!, request.Description, [.. request.EventTypes!.Distinct()],
            deps.Box.Protect(secret)), http.RequestAborted);
        deps.Service.Invalidate(org);
        http.Audit().Detail("url", e.Url).Detail("event_types", e.EventTypes);
        return TypedResults.Created($"/api/v1/webhooks/{e.Id}", new WebhookCreatedDto(e.Id, e.Url, e.Description, e.EventTypes, e.Enabled, secret, e.CreatedAt));
    }

    public static async Task<Results<Ok<WebhookDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store) =>
        await FindAsync(id, http, store) is { } e ? TypedResults.Ok(WebhookDto.From(e)) : NotFound(id);

    public static async Task<Results<Ok<WebhookDto>, ValidationProblem, ProblemHttpResult>> Patch(string id, WebhookPatchRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var v = new Validation();
        if (request.Url is not null) CheckUrl(request.Url, v, deps.Options);
        if (request.EventTypes is not null) CheckEvents(request.EventTypes, v);
        v.Name("description", request.Description, 500);
        if (!v.Ok) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        if (!Guid.TryParse(id, out var g)) return NotFound(id);
        var e = await deps.Store.Webhooks.UpdateEndpointAsync(new UpdateEndpointParams(org, g)
        {
            Url = request.Url,
            Description = request.Description,
            EventTypes = request.EventTypes is { } types ? [.. types.Distinct()] : null,
            Enabled = request.Enabled,
        }, http.RequestAborted);
        deps.Service.Invalidate(org);
        return e is null ? NotFound(id) : TypedResults.Ok(WebhookDto.From(e));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, IKairosStore store, WebhookService service)
    {
        var org = http.User.OrganizationId();
        var deleted = Guid.TryParse(id, out var g) && await store.Webhooks.DeleteEndpointAsync(new EndpointParams(org, g), http.RequestAborted);
        service.Invalidate(org);
        return deleted ? TypedResults.NoContent() : NotFound(id);
    }

    /// <summary>Sends a <c>webhook.test</c> event to the endpoint (whatever it subscribes to, even disabled ones are refused); answers the delivery to follow.</summary>
    public static async Task<Results<Accepted<WebhookDeliveryDto>, ProblemHttpResult>> Test(string id, HttpContext http, IKairosStore store, WebhookService service)
    {
        if (await FindAsync(id, http, store) is not { } e) return NotFound(id);
        if (!e.Enabled) return Problems.Conflict($"Webhook {id} is disabled ({e.DisabledReason}); enable it first.");
        var d = await service.SendTestAsync(e, http.RequestAborted);
        return TypedResults.Accepted($"/api/v1/webhooks/{e.Id}/deliveries/{d.Id}", WebhookDeliveryDto.From(d));
    }

    public static async Task<Results<Ok<ListResponse<WebhookDeliveryDto>>, ValidationProblem, ProblemHttpResult>> Deliveries(
        string id, HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        if (!Guid.TryParse(id, out var g)) return NotFound(id);
        try
        {
            var page = await store.Webhooks.ListDeliveriesAsync(new ListDeliveriesParams(http.User.OrganizationId(), g) { Limit = n, Cursor = cursor }, http.RequestAborted);
            return page is null ? NotFound(id) : TypedResults.Ok(new ListResponse<WebhookDeliveryDto>([.. page.Items.Select(d => WebhookDeliveryDto.From(d))], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<WebhookDeliveryDto>, ProblemHttpResult>> Delivery(string id, string deliveryId, HttpContext http, IKairosStore store) =>
        await FindDeliveryAsync(id, deliveryId, http, store) is { } d ? TypedResults.Ok(WebhookDeliveryDto.From(d, full: true)) : DeliveryNotFound(deliveryId);

    /// <summary>Runs a delivery again (the same event id and body, signed anew); 409 while it is still pending.</summary>
    public static async Task<Results<Accepted<WebhookDeliveryDto>, ProblemHttpResult>> Redeliver(
        string id, string deliveryId, HttpContext http, IKairosStore store, WebhookService service)
    {
        if (await FindDeliveryAsync(id, deliveryId, http, store) is not { } d) return DeliveryNotFound(deliveryId);
        if (d.State == DeliveryState.Pending) return Problems.Conflict($"Delivery {deliveryId} is still pending.");
        if (await FindAsync(id, http, store) is not { Enabled: true }) return Problems.Conflict($"Webhook {id} is disabled; enable it first.");
        var started = await service.StartAsync(d, http.RequestAborted);
        http.Audit().TargetId = id;
        http.Audit().Detail("delivery_id", d.Id);
        return TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries/{d.Id}", WebhookDeliveryDto.From(started));
    }

    private static async Task<WebhookEndpoint?> FindAsync(string id, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var g) ? await store.Webhooks.GetEndpointAsync(new EndpointParams(http.User.OrganizationId(), g), http.RequestAborted) : null;

    private static async Task<WebhookDelivery?> FindDeliveryAsync(string id, string deliveryId, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var e) && Guid.TryParse(deliveryId, out var d)
        && await store.Webhooks.GetDeliveryAsync(new DeliveryParams(http.User.OrganizationId(), d), http.RequestAborted) is { } delivery && delivery.EndpointId == e
            ? delivery
            : null;

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No webhook {id}.");
    private static ProblemHttpResult DeliveryNotFound(string id) => Problems.NotFound($"No delivery {id}.");
}
