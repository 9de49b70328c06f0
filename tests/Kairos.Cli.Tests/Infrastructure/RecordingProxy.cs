using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// An HTTP proxy on a loopback port that relays every request to the server and records it (method, path with query,
/// body), to see which calls a command makes.
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _client = new();
    private readonly Uri _target;
    private readonly ConcurrentQueue<Request> _requests = new();
    private readonly Task _accepting;
    private readonly Action<Request>? _onDispose;

    /// <param name="target">The server.</param>
    /// <param name="onDispose">Called with every recorded request when the proxy is disposed (e.g. to log them).</param>
    public RecordingProxy(Uri target, Action<Request>? onDispose = null)
    {
        _target = target;
        _onDispose = onDispose;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Where to point a command instead of the server.</summary>
    public Uri Address { get; }

    /// <summary>The requests relayed so far, in order of arrival.</summary>
    public IReadOnlyList<Request> Requests => [.. _requests];

    public sealed record Request(string Method, string PathAndQuery, string Body);

    private async Task AcceptAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => RelayAsync(context));
        }
    }

    private async Task RelayAsync(HttpListenerContext context)
    {
        var incoming = context.Request;
        var body = "";
        if (incoming.HasEntityBody)
        {
            using var reader = new StreamReader(incoming.InputStream, incoming.ContentEncoding);
            body = await reader.ReadToEndAsync();
        }
        var path = incoming.RawUrl ?? "/";
        _requests.Enqueue(new Request(incoming.HttpMethod, path, body));
        using var request = new HttpRequestMessage(new HttpMethod(incoming.HttpMethod), new Uri(_target, path));
        if (incoming.HasEntityBody)
        {
            request.Content = new StringContent(body);
            request.Content.Headers.Remove("Content-Type");
            if (incoming.ContentType is { } type) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        if (incoming.Headers["Authorization"] is { } auth) request.Headers.TryAddWithoutValidation("Authorization", auth);
        try
        {
            using var response = await _client.SendAsync(request);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType) context.Response.ContentType = contentType.ToString();
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
        }
        catch (HttpRequestException)
        {
            context.Response.StatusCode = (int)HttpStatusCode.BadGateway;
        }
        finally
        {
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var r in _requests) _onDispose?.Invoke(r);
        _listener.Close();
        await _accepting;
        _client.Dispose();
    }
}
