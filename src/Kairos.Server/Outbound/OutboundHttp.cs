using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kairos.Server.Outbound;

/// <summary>What came back from an outbound request, or why nothing did.</summary>
/// <param name="Status">The HTTP status; null when no answer came (see <paramref name="Error"/>).</param>
/// <param name="Body">The first bytes of the answer's body (at most <see cref="OutboundHttp.MaxResponseBytes"/>, as text).</param>
/// <param name="Error">Why no answer came: refused (a private address), timed out, connection failed.</param>
public sealed record OutboundResult(int? Status, string? Body, long DurationMs, string? Error)
{
    public bool Succeeded => Status is >= 200 and < 300;

    /// <summary>One line for a log or an incident's history.</summary>
    public string Describe() => Status is { } s ? $"HTTP {s}" : Error ?? "no answer";
}

/// <summary>
/// The one way the server calls URLs that users configured (webhooks, Slack, PagerDuty, alert webhooks). It refuses
/// addresses inside the server's networks (loopback, private, link-local such as cloud metadata at 169.254.169.254,
/// carrier-grade NAT, unique-local IPv6, unspecified, multicast) unless <see cref="ServerOptions.OutboundAllowPrivate"/>
/// says otherwise: checked on the address actually connected to, after DNS, so a name that resolves inside is refused
/// too (and so is a redirect, which is never followed). Each request has a timeout, and at most
/// <see cref="MaxResponseBytes"/> of an answer are read.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    /// <summary>The most of an answer's body that is read (and kept in delivery logs).</summary>
    public const int MaxResponseBytes = 16 * 1024;

    private readonly HttpClient _client;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    public OutboundHttp(ServerOptions options, TimeProvider time)
    {
        _time = time;
        _timeout = options.OutboundTimeout;
        var allowPrivate = options.OutboundAllowPrivate;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = options.OutboundTimeout,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context, allowPrivate, cancellationToken),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd($"Kairos/{Apis.SystemApi.Version}");
    }

    /// <summary>Sends the request; never throws for what the other side does (refusal, timeout, errors are in the result).</summary>
    public async Task<OutboundResult> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        long Elapsed() => (long)_time.GetElapsedTime(started).TotalMilliseconds;
        if (request.RequestUri is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            return new OutboundResult(null, null, 0, "refused: only http and https URLs are called");
        }
        // The timeout is real time even when the server runs on a test clock: it bounds a call to another machine.
        using var timeout = new CancellationTokenSource(_timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var body = await ReadCappedAsync(response.Content, linked.Token);
            return new OutboundResult((int)response.StatusCode, body, Elapsed(), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new OutboundResult(null, null, Elapsed(), $"timed out after {_timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex) when (Refusal(ex) is { } refused)
        {
            return new OutboundResult(null, null, Elapsed(), refused.Message);
        }
        catch (HttpRequestException ex)
        {
            return new OutboundResult(null, null, Elapsed(), "connection failed: " + (ex.InnerException?.Message ?? ex.Message));
        }
    }

    private static OutboundRefusedException? Refusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OutboundRefusedException r) return r;
        }
        return null;
    }

    private static async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0) break;
            read += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0) throw new HttpRequestException($"{host} has no address");
        if (!allowPrivate && addresses.FirstOrDefault(IsInternal) is { } inside)
        {
            throw new OutboundRefusedException($"refused: {host} is {inside}, an internal address (set KAIROS_OUTBOUND_ALLOW_PRIVATE=true to allow)");
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }
        throw new HttpRequestException($"could not connect to {host}:{context.DnsEndPoint.Port}", last);
    }

    /// <summary>Whether an address is inside: loopback, private, link-local, CGNAT, unique-local, unspecified, multicast, reserved.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] is >= 64 and <= 127,          // carrier-grade NAT 100.64/10
                169 => b[1] == 254,                        // link-local (cloud metadata)
                172 => b[1] is >= 16 and <= 31,
                192 => b[1] == 168 || (b[1] == 0 && b[2] == 0), // private, IETF protocol assignments
                198 => b[1] is 18 or 19,                   // benchmarking
                >= 224 => true,                            // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (b[0] & 0xFE) == 0xFC; // fc00::/7 unique-local
        }
        return true;
    }

    /// <summary>The refusal of a URL given by a user, before any request: a literal internal address or a local name. Null when fine.</summary>
    public static string? RefuseUrl(string url, bool allowPrivate)
    {
        if (allowPrivate || !Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        if (uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "must not be a loopback address";
        }
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IsInternal(ip) ? "must not be an internal address" : null;
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>An outbound call refused before it connected (an internal address).</summary>
public sealed class OutboundRefusedException(string message) : Exception(message);
