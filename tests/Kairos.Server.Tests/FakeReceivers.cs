using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kairos.Server.Tests;

/// <summary>One request a fake receiver got.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var v) ? v : throw new InvalidOperationException($"no header {name}");
}

/// <summary>
/// A real HTTP server on loopback (Kestrel, a free port) standing in for Slack, PagerDuty or a webhook receiver: it
/// records every request and answers with the status <see cref="Status"/> picks for the request's number (1-based).
/// </summary>
public sealed class FakeReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private FakeReceiver(WebApplication app) => _app = app;

    public Func<int, int> Status { get; set; } = _ => 200;
    /// <summary>The body of the answer to request n; null: "ok" or "receiver failure n".</summary>
    public Func<int, string>? Answer { get; set; }
    /// <summary>When set, every answer carries this Location header (a redirect, with a 3xx <see cref="Status"/>).</summary>
    public string? Location { get; set; }
    /// <summary>When set, every request is held (no answer) until this task completes or the caller gives up.</summary>
    public Task? Hold { get; set; }
    public string BaseUrl { get; private set; } = "";
    public string Url => BaseUrl + "/hook";
    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public static async Task<FakeReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new FakeReceiver(app);
        var count = 0;
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var n = Interlocked.Increment(ref count);
            receiver._received.Enqueue(new ReceivedRequest(http.Request.Method, http.Request.Path, headers, body));
            var held = receiver.Hold;
            if (held is not null)
            {
                receiver._arrived.Release(); // it came, the answer is held
                try { await held.WaitAsync(http.RequestAborted); } catch (OperationCanceledException) { return; }
            }
            http.Response.StatusCode = receiver.Status(n);
            if (receiver.Location is { } location) http.Response.Headers.Location = location;
            await http.Response.WriteAsync(receiver.Answer?.Invoke(n) ?? (http.Response.StatusCode < 300 ? "ok" : "receiver failure " + n));
            if (held is null) receiver._arrived.Release();
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.Single();
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests came (or fails after the timeout).</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(int count, int seconds = 15)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (_received.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"expected {count} requests, got {_received.Count}");
            }
        }
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _arrived.Dispose();
    }
}

/// <summary>One mail the fake SMTP server took.</summary>
public sealed record ReceivedMail(string From, IReadOnlyList<string> To, string Data, string? AuthPlain);

/// <summary>
/// A tiny SMTP server on loopback for the email channel's tests: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT, without TLS
/// (the channel is configured with <c>tls: none</c>); it records every mail with its raw data.
/// </summary>
public sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _mails = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _accepting;

    public FakeSmtpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(int count, int seconds = 15)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (_mails.Count < count)
        {
            try { await _arrived.WaitAsync(deadline.Token); }
            catch (OperationCanceledException) { Assert.Fail($"expected {count} mails, got {_mails.Count}"); }
        }
        return [.. _mails];
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 fake-smtp ready");
        string? from = null, auth = null;
        var to = new List<string>();
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            var verb = line.Split(' ')[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await writer.WriteLineAsync("250-fake-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME");
                    break;
                case "HELO":
                    await writer.WriteLineAsync("250 fake-smtp");
                    break;
                case "AUTH":
                    var parts = line.Split(' ');
                    if (parts.Length >= 3) auth = parts[2];
                    else
                    {
                        await writer.WriteLineAsync("334 ");
                        auth = await reader.ReadLineAsync(_stop.Token);
                    }
                    await writer.WriteLineAsync("235 2.7.0 authenticated");
                    break;
                case "MAIL":
                    from = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0].Trim('<', '>');
                    await writer.WriteLineAsync("250 ok");
                    break;
                case "RCPT":
                    to.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0].Trim('<', '>'));
                    await writer.WriteLineAsync("250 ok");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 go ahead");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync(_stop.Token) is { } d && d != ".") data.Append(d).Append('\n');
                    _mails.Enqueue(new ReceivedMail(from ?? "", [.. to], data.ToString(), auth));
                    to.Clear();
                    await writer.WriteLineAsync("250 queued");
                    _arrived.Release();
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("250 ok");
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
        _arrived.Dispose();
    }
}
