using System.Globalization;
using System.Text.Json;
using Kairos.Core.Events;
using Kairos.Server.Auth;
using Kairos.Server.Http;

namespace Kairos.Server.Apis;

/// <summary>
/// Server-Sent Events of the organization's domain events. Each event carries its id; a client that reconnects
/// with <c>Last-Event-ID</c> gets what it missed while the server's buffer still holds it.
/// </summary>
public static class EventsApi
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static RouteGroupBuilder MapEventsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/events", Stream).WithTags("Events").WithName("StreamEvents").RequireAuthorization(Policies.Read)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return api;
    }

    public static async Task Stream(HttpContext http, EventBus bus, IHostApplicationLifetime lifetime)
    {
        long? after = null;
        var lastId = http.Request.Headers["Last-Event-ID"].ToString();
        if (string.IsNullOrEmpty(lastId)) lastId = http.Request.Query["last_event_id"].ToString();
        if (long.TryParse(lastId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) after = parsed;

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        using var subscription = bus.Subscribe(http.User.OrganizationId(), after);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var writer = http.Response.BodyWriter;
        await http.Response.WriteAsync(subscription.Gap ? ": some events were missed (buffer overrun)\n\n" : ": connected\n\n", stop.Token);
        await http.Response.Body.FlushAsync(stop.Token);
        var reader = subscription.Reader;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                wait.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await http.Response.Body.FlushAsync(stop.Token);
                    continue;
                }
                if (!more) break; // closed because it fell behind: the client reconnects with Last-Event-ID
                while (reader.TryRead(out var e))
                {
                    var data = JsonSerializer.Serialize(Envelope(e), Json.Options);
                    await http.Response.WriteAsync($"id: {e.Id}\nevent: {e.Type}\ndata: {data}\n\n", stop.Token);
                }
                await http.Response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // client went away or the server is stopping
        }
        _ = writer;
    }

    public static object Envelope(DomainEvent e) => new Dictionary<string, object?>
    {
        ["id"] = e.Id.ToString(CultureInfo.InvariantCulture),
        ["type"] = e.Type,
        ["time"] = Json.Format(e.Time),
        ["organization_id"] = e.OrganizationId,
        ["data"] = e.Data,
    };
}
