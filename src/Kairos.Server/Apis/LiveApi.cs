using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Kairos.Core.Events;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>
/// The organization's domain events over a WebSocket (<c>/api/v1/ws</c>), for the console: the same envelope as the
/// Server-Sent Events of <c>/api/v1/events</c>, one JSON text message per event, resumable with <c>?after=</c> the id of
/// the last event seen. Authenticated like any request (the session cookie, which a browser sends with the upgrade, or
/// an API key); a cookie-authenticated upgrade must come from this server's own origin (or one of the CORS origins), so
/// that a page on another site cannot open the stream with a visitor's cookie.
/// </summary>
/// <remarks>
/// The first message is <c>{"type": "stream.hello", "data": {"last_event_id", "gap"}}</c> (no <c>id</c>): <c>gap</c>
/// is true when events after <c>after</c> had already left the server's replay buffer, so the client refetches what
/// it shows. A client that falls behind by more than the subscription holds is closed with 1008 and a reason; it
/// reconnects with <c>?after=</c>. The server closes with 1001 when it stops. Protocol-level pings keep the connection
/// open through proxies. Messages the client sends are read and ignored.
/// </remarks>
public static class LiveApi
{
    public const string HelloType = "stream.hello";
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    public static RouteGroupBuilder MapLiveApi(this RouteGroupBuilder api)
    {
        api.MapGet("/ws", Connect).WithTags("Events").WithName("StreamEventsWebSocket").RequireAuthorization(Policies.Read)
            .WithSummary("The organization's domain events over a WebSocket (upgrade with GET; ?after= resumes)")
            .Produces(StatusCodes.Status101SwitchingProtocols);
        return api;
    }

    public static async Task<Results<EmptyHttpResult, ValidationProblem, ProblemHttpResult>> Connect(
        HttpContext http, EventBus bus, ServerOptions options, TimeProvider time, IHostApplicationLifetime lifetime, string? after)
    {
        long? from = null;
        if (after is { Length: > 0 })
        {
            if (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return Problems.Invalid("after", "must be an event id (a whole number, 0 or more)");
            }
            from = parsed;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("This endpoint speaks WebSocket: send GET with Connection: Upgrade and Upgrade: websocket (or read /api/v1/events as Server-Sent Events).");
        }
        if (http.User.Identity?.AuthenticationType == SessionAuthentication.SchemeName && !SameOrigin(http, options))
        {
            return TypedResults.Problem("A WebSocket opened with the session cookie must come from this server's pages (the Origin header does not match).",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive });
        using var subscription = bus.Subscribe(http.User.OrganizationId(), from);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        // The receive loop has its own token: cancelling a pending receive aborts the socket, which must wait until our close is sent.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var receiving = DrainAsync(socket, stop, abort.Token);
        try
        {
            await SendAsync(socket, new Dictionary<string, object?>
            {
                ["type"] = HelloType,
                ["time"] = Json.Format(time.GetUtcNow()),
                ["organization_id"] = subscription.OrganizationId,
                ["data"] = new Dictionary<string, object?>
                {
                    ["last_event_id"] = bus.LastId.ToString(CultureInfo.InvariantCulture),
                    ["gap"] = subscription.Gap,
                },
            }, stop.Token);
            var reader = subscription.Reader;
            while (await reader.WaitToReadAsync(stop.Token))
            {
                while (reader.TryRead(out var e))
                {
                    await SendAsync(socket, EventsApi.Envelope(e), stop.Token);
                }
            }
            // The subscription was closed because this client fell behind.
            await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "fell behind the event stream: reconnect with ?after=<last event id>");
        }
        catch (OperationCanceledException)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested) await CloseAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        }
        catch (WebSocketException)
        {
            // the client went away without a close handshake
        }
        await stop.CancelAsync();
        // After our close, the client answers with its own, which ends the receive loop; one that does not is cut off.
        if (await Task.WhenAny(receiving, Task.Delay(CloseWait, CancellationToken.None)) != receiving) await abort.CancelAsync();
        await receiving;
        return TypedResults.Empty;
    }

    /// <summary>Reads (and ignores) what the client sends, until it closes; then ends the stream.</summary>
    private static async Task DrainAsync(WebSocket socket, CancellationTokenSource stop, CancellationToken abort)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, abort);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static Task SendAsync(WebSocket socket, object message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, Json.Options), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>
    /// No Origin (not a browser), an origin on the host the request was sent to (the scheme is not compared: behind a
    /// TLS-terminating proxy the page is https and the request reaches the server as http), or one of the CORS origins.
    /// </summary>
    internal static bool SameOrigin(HttpContext http, ServerOptions options)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return true;
        if (options.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)) return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && string.Equals(uri.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
