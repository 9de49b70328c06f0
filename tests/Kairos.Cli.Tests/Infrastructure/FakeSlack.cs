using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// A Slack incoming webhook stand-in on a loopback port (HttpListener): records the <c>text</c> of every message posted
/// to it and answers 200, for alert tests against server processes.
/// </summary>
public sealed class FakeSlack : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<string> _texts = new();
    private readonly Task _accepting;

    public FakeSlack()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/slack/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Url { get; }

    /// <summary>The headline of every message received, in order.</summary>
    public IReadOnlyList<string> Texts => [.. _texts];

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                using var doc = JsonDocument.Parse(body);
                _texts.Enqueue(doc.RootElement.GetProperty("text").GetString() ?? "");
            }
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _accepting.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
