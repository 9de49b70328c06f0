using Kairos.Core.Alerts;
using Kairos.Core.Storage;
using Kairos.Server.Alerts;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Kairos.Server.Outbound;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>A channel to create (POST) or to create or replace (PUT). Secret config fields left out, or sent back masked, keep their value.</summary>
public sealed record AlertChannelRequest(string? Name, string? Kind, AlertChannelConfig? Config);

/// <summary>A channel as the API shows it: its secrets (<c>url</c> of Slack, <c>secret</c>, <c>password</c>, <c>routing_key</c>) masked.</summary>
public sealed record AlertChannelDto(Guid Id, string Name, string Kind, AlertChannelConfig Config, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>How a test notification went: <c>delivered</c>, or the channel's refusal in one line.</summary>
public sealed record ChannelTestResult(bool Delivered, string? Error);

/// <summary>Alert channels (Slack, generic webhook, email, PagerDuty): addressed by name within the organization.</summary>
public static class AlertChannelsApi
{
    public static RouteGroupBuilder MapAlertChannelsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/alert-channels").WithTags("Alerts").RequireAuthorization(Policies.AlertsManage);
        g.MapGet("/", List).WithName("ListAlertChannels");
        g.MapPost("/", Create).WithName("CreateAlertChannel").Audited("alert_channel.create");
        g.MapGet("/{name}", Get).WithName("GetAlertChannel");
        g.MapPut("/{name}", Put).WithName("PutAlertChannel").Audited("alert_channel.upsert");
        g.MapDelete("/{name}", Delete).WithName("DeleteAlertChannel").Audited("alert_channel.delete");
        g.MapPost("/{name}/test", Test).WithName("TestAlertChannel").Audited("alert_channel.test");
        return api;
    }

    public sealed record Deps(IKairosStore Store, ChannelSecrets Secrets, ServerOptions Options);

    private static AlertChannelDto Dto(AlertChannel c, ChannelSecrets secrets) =>
        new(c.Id, c.Name, c.Kind.ToWire(), secrets.Mask(c.Kind, AlertChannelConfig.FromJson(c.ConfigJson)), c.CreatedAt, c.UpdatedAt);

    public static async Task<Results<Ok<ListResponse<AlertChannelDto>>, ValidationProblem>> List(HttpContext http, [AsParameters] Deps deps, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await deps.Store.Alerts.ListChannelsAsync(new ListNamedParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<AlertChannelDto>([.. page.Items.Select(c => Dto(c, deps.Secrets))], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<AlertChannelDto>, ProblemHttpResult>> Get(string name, HttpContext http, [AsParameters] Deps deps) =>
        await deps.Store.Alerts.GetChannelAsync(new NamedParams(http.User.OrganizationId(), name), http.RequestAborted) is { } c
            ? TypedResults.Ok(Dto(c, deps.Secrets))
            : NotFound(name);

    public static async Task<Results<Created<AlertChannelDto>, ValidationProblem, ProblemHttpResult>> Create(AlertChannelRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var org = http.User.OrganizationId();
        var (kind, config, v) = Check(request, request.Name, null, deps);
        if (!v.Ok) return Problems.Invalid(v);
        var created = await deps.Store.Alerts.CreateChannelAsync(new SaveChannelParams(org, request.Name!, kind, config!.ToJson()), http.RequestAborted);
        if (created is null) return Problems.Conflict($"A channel named '{request.Name}' exists already; PUT /api/v1/alert-channels/{request.Name} replaces it.");
        return TypedResults.Created($"/api/v1/alert-channels/{Uri.EscapeDataString(created.Name)}", Dto(created, deps.Secrets));
    }

    public static async Task<Results<Created<AlertChannelDto>, Ok<AlertChannelDto>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AlertChannelRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var org = http.User.OrganizationId();
        if (request.Name is { } n && n != name) return Problems.Invalid("name", "must be the name in the path (or left out)");
        var existing = await deps.Store.Alerts.GetChannelAsync(new NamedParams(org, name), http.RequestAborted);
        var (kind, config, v) = Check(request, name, existing, deps);
        if (!v.Ok) return Problems.Invalid(v);
        if (existing is not null && await deps.Store.Alerts.UpdateChannelAsync(new SaveChannelParams(org, name, kind, config!.ToJson()), http.RequestAborted) is { } updated)
        {
            return TypedResults.Ok(Dto(updated, deps.Secrets));
        }
        var created = await deps.Store.Alerts.CreateChannelAsync(new SaveChannelParams(org, name, kind, config!.ToJson()), http.RequestAborted);
        if (created is null) return Problems.Conflict($"Channel '{name}' was created meanwhile; try again.");
        return TypedResults.Created($"/api/v1/alert-channels/{Uri.EscapeDataString(created.Name)}", Dto(created, deps.Secrets));
    }

    /// <summary>Validates a request; the config comes back with its secrets encrypted (kept from <paramref name="existing"/> where not given).</summary>
    private static (AlertChannelKind Kind, AlertChannelConfig? Config, Validation V) Check(AlertChannelRequest r, string? name, AlertChannel? existing, Deps deps)
    {
        var v = new Validation();
        if (!Names.IsValid(name)) v.Add("name", Names.Rule);
        if (!AlertChannelKinds.TryParse(r.Kind, out var kind)) v.Add("kind", "one of " + string.Join(", ", AlertChannelKinds.Wire));
        if (r.Config is null) v.Add("config", "is required");
        if (!v.Ok) return (kind, null, v);
        var stored = deps.Secrets.Protect(kind, r.Config!, existing);
        var clear = deps.Secrets.Reveal(kind, stored);
        foreach (var (field, messages) in clear.Validate(kind))
        {
            foreach (var m in messages) v.Add(field, m);
        }
        foreach (var (field, url) in new[] { ("config.url", clear.Url), ("config.events_url", clear.EventsUrl) })
        {
            if (url is not null && OutboundHttp.RefuseUrl(url, deps.Options.OutboundAllowPrivate) is { } refused) v.Add(field, refused);
        }
        return (kind, stored, v);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store)
    {
        var org = http.User.OrganizationId();
        var users = new List<string>();
        string? cursor = null;
        do
        {
            var page = await store.Alerts.ListRulesAsync(new ListNamedParams(org) { Limit = 500, Cursor = cursor }, http.RequestAborted);
            users.AddRange(page.Items.Where(r => r.Definition.Channels.Contains(name)).Select(r => r.Name));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        if (users.Count > 0) return Problems.Conflict($"Channel '{name}' is used by the rules {string.Join(", ", users)}; take it out of them first.");
        return await store.Alerts.DeleteChannelAsync(new NamedParams(org, name), http.RequestAborted) ? TypedResults.NoContent() : NotFound(name);
    }

    public static async Task<Results<Ok<ChannelTestResult>, ProblemHttpResult>> Test(string name, HttpContext http, IKairosStore store, AlertNotifier notifier, TimeProvider time)
    {
        var org = http.User.OrganizationId();
        if (await store.Alerts.GetChannelAsync(new NamedParams(org, name), http.RequestAborted) is not { } channel) return NotFound(name);
        var error = await notifier.SendAsync(channel, AlertMessage.Test(org, name, time.GetUtcNow()), http.RequestAborted);
        http.Audit().Detail("delivered", error is null);
        return TypedResults.Ok(new ChannelTestResult(error is null, error));
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No alert channel '{name}'.");
}
