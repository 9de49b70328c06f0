using System.Net;
using System.Net.Sockets;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on a loopback port relaying every connection to a target (the database), to play a database that
/// goes away and comes back: <see cref="Stop"/> closes the listener and every relayed connection (the far side sees
/// them break, new connections are refused); <see cref="Start"/> listens again on the same port.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly object _gate = new();
    private readonly HashSet<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _cut;
    private Task _accepting = Task.CompletedTask;

    public TcpForwarder(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    /// <summary>The loopback port it listens on (the same across stops and starts).</summary>
    public int Port { get; }

    /// <summary>How many relayed connections are open now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_gate) return _connections.Count;
        }
    }

    /// <summary>How many connections it has accepted since it was created.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    public void Start()
    {
        lock (_gate)
        {
            if (_listener is not null) return;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            // The connections it closed leave TIME_WAIT entries on this port; listen again regardless.
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _cut = new CancellationTokenSource();
            _accepting = AcceptAsync(listener, _cut.Token);
        }
    }

    /// <summary>Stops listening and closes every relayed connection, both ends.</summary>
    public void Stop()
    {
        TcpClient[] open;
        lock (_gate)
        {
            if (_listener is null) return;
            _cut!.Cancel();
            _listener.Stop();
            _listener = null;
            open = [.. _connections];
            _connections.Clear();
        }
        foreach (var client in open) Close(client);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cut)
    {
        while (!cut.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(cut);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            var outbound = new TcpClient();
            lock (_gate)
            {
                if (cut.IsCancellationRequested)
                {
                    Close(inbound);
                    outbound.Dispose();
                    return;
                }
                _connections.Add(inbound);
                _connections.Add(outbound);
            }
            _ = RelayAsync(inbound, outbound, cut);
        }
    }

    private async Task RelayAsync(TcpClient inbound, TcpClient outbound, CancellationToken cut)
    {
        try
        {
            await outbound.ConnectAsync(_targetHost, _targetPort, cut);
            var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), cut);
            var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), cut);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Cut, or one side closed.
        }
        finally
        {
            lock (_gate)
            {
                _connections.Remove(inbound);
                _connections.Remove(outbound);
            }
            Close(inbound);
            Close(outbound);
        }
    }

    /// <summary>Closes at once with a reset (linger 0), so the peer learns of it now, not at its next write.</summary>
    private static void Close(TcpClient client)
    {
        try
        {
            if (client.Client is { } socket) socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _cut?.Dispose();
    }
}
