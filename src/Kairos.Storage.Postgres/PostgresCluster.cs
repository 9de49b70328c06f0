using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kairos.Core.Storage;
using Npgsql;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Coordination of the nodes that share one database (one schema).
/// <list type="bullet">
/// <item>Wake-ups and events travel by LISTEN/NOTIFY on one channel per schema. <see cref="NotifyReady"/> and
/// <see cref="PublishEvent"/> only put the notice in an in-memory outbox; a background pump drains whatever piled up,
/// sums wake-ups per queue, and sends it as JSON in as few <c>pg_notify</c> calls as the 8000-byte payload limit
/// allows, in one round trip. Every payload names the sending node, so a node skips its own notices.</item>
/// <item><see cref="ListenAsync"/> holds a dedicated connection with LISTEN, checks it while idle, and reconnects with
/// backoff when it breaks.</item>
/// <item>Leadership is a session-level advisory lock held on a dedicated connection; it ends when that connection
/// does, which a cheap query every second notices (<see cref="ILeadership.Lost"/>).</item>
/// </list>
/// The timers here measure the network, not job time, so they run on real time rather than the store's TimeProvider.
/// </summary>
internal sealed class PostgresCluster(PostgresStore store) : IStoreCluster, IAsyncDisposable
{
    /// <summary>PostgreSQL refuses payloads of 8000 bytes and more; keep a margin.</summary>
    internal const int MaxPayloadBytes = 7_800;
    /// <summary>Room left in a payload for the envelope around one notice.</summary>
    private const int EnvelopeBytes = 120;
    private const int OutboxCapacity = 100_000;
    private const int MaxNoticesPerSend = 10_000;
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LeaderCheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly Channel<object> _outbox = Channel.CreateBounded<object>(new BoundedChannelOptions(OutboxCapacity)
    {
        // Notices are hints (fetchers also poll) and events are best effort: under a flood, the oldest go first.
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Leadership, byte> _leaderships = new();
    private Task? _pump;
    private long _sequence;

    public string NodeId { get; } = Guid.NewGuid().ToString();

    /// <summary>How every payload this node sends begins (see <see cref="Encode"/>).</summary>
    private string OwnPrefix => _ownPrefix ??= $"{{\"n\":{JsonSerializer.Serialize(NodeId)},";
    private string? _ownPrefix;

    private string ChannelName => Keys.Channel(store.Schema);

    /// <summary>Starts the pump once the store is open.</summary>
    internal void Start() => _pump ??= Task.Run(PumpAsync);

    public void NotifyReady(ReadyNotice notice) => _outbox.Writer.TryWrite(notice);

    public void PublishEvent(ClusterEvent e) => _outbox.Writer.TryWrite(e);

    // ---------------------------------------------------------------- sending

    private async Task PumpAsync()
    {
        var reader = _outbox.Reader;
        var ready = new Dictionary<(Guid Org, string Queue), int>();
        var events = new List<ClusterEvent>();
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                ready.Clear();
                events.Clear();
                for (var n = 0; n < MaxNoticesPerSend && reader.TryRead(out var item); n++)
                {
                    if (item is ReadyNotice r) ready[(r.OrganizationId, r.Queue)] = ready.GetValueOrDefault((r.OrganizationId, r.Queue)) + r.Count;
                    else if (item is ClusterEvent e) events.Add(e);
                }
                var payloads = Encode(ready, events);
                if (payloads.Count == 0) continue;
                try
                {
                    await using var cmd = store.DataSource.CreateCommand("SELECT pg_notify(@channel, p) FROM unnest(@payloads) WITH ORDINALITY AS t(p, i) ORDER BY i");
                    cmd.Parameters.Text("channel", ChannelName).Texts("payloads", [.. payloads]);
                    await cmd.ExecuteNonQueryAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    // Database unreachable: these notices are lost (other nodes still poll); wait a little before the next.
                    await Task.Delay(TimeSpan.FromMilliseconds(500), _stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Packs notices into JSON payloads under <see cref="MaxPayloadBytes"/>, in order; an event too big alone is shrunk.</summary>
    internal List<string> Encode(IReadOnlyDictionary<(Guid Org, string Queue), int> ready, IReadOnlyList<ClusterEvent> events)
    {
        var payloads = new List<string>();
        var readyParts = new List<string>();
        var eventParts = new List<string>();
        var size = 0;
        void Flush()
        {
            if (readyParts.Count == 0 && eventParts.Count == 0) return;
            var seq = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
            // The sequence number keeps payloads distinct: PostgreSQL folds identical notifications of one transaction.
            payloads.Add($"{{\"n\":{JsonSerializer.Serialize(NodeId)},\"s\":{seq},\"r\":[{string.Join(',', readyParts)}],\"e\":[{string.Join(',', eventParts)}]}}");
            readyParts.Clear();
            eventParts.Clear();
            size = 0;
        }
        void Add(List<string> parts, string part)
        {
            var bytes = Encoding.UTF8.GetByteCount(part) + 1;
            if (bytes > MaxPayloadBytes - EnvelopeBytes) return; // cannot travel (a queue name of kilobytes): fetchers poll anyway
            if (size + bytes > MaxPayloadBytes - EnvelopeBytes) Flush();
            parts.Add(part);
            size += bytes;
        }
        foreach (var ((org, queue), count) in ready)
        {
            Add(readyParts, $"{{\"o\":\"{org}\",\"q\":{JsonSerializer.Serialize(queue)},\"c\":{count.ToString(CultureInfo.InvariantCulture)}}}");
        }
        foreach (var e in events)
        {
            Add(eventParts, EncodeEvent(e, MaxPayloadBytes - EnvelopeBytes));
        }
        Flush();
        return payloads;
    }

    /// <summary>One event as JSON: its data raw when it is JSON (shrunk to fit), as text ("x") when it is not.</summary>
    private static string EncodeEvent(ClusterEvent e, int budget)
    {
        var head = $"{{\"t\":{JsonSerializer.Serialize(e.Type)},\"at\":\"{e.Time.ToString("O", CultureInfo.InvariantCulture)}\",\"o\":\"{e.OrganizationId}\",";
        var room = budget - Encoding.UTF8.GetByteCount(head) - 8;
        if (Encoding.UTF8.GetByteCount(e.DataJson) <= room && IsJson(e.DataJson))
        {
            // The common case (an event's data as the server serialized it, well under the budget): as it is, unparsed.
            return head + "\"d\":" + e.DataJson + "}";
        }
        JsonNode? data;
        try
        {
            data = JsonNode.Parse(e.DataJson);
        }
        catch (JsonException)
        {
            var text = JsonSerializer.Serialize(e.DataJson);
            for (var length = e.DataJson.Length / 2; Encoding.UTF8.GetByteCount(text) > room; length /= 2)
            {
                text = JsonSerializer.Serialize(e.DataJson[..length] + "… [truncated]");
            }
            return head + "\"x\":" + text + "}";
        }
        var json = data?.ToJsonString() ?? "null";
        foreach (var max in new[] { 2048, 512, 128, 32 })
        {
            if (Encoding.UTF8.GetByteCount(json) <= room) break;
            var copy = data!.DeepClone();
            TruncateStrings(copy, max);
            json = copy.ToJsonString();
        }
        if (Encoding.UTF8.GetByteCount(json) > room) json = "{\"truncated\":true}";
        return head + "\"d\":" + json + "}";
    }

    /// <summary>Whether the text is one JSON value, checked without building anything.</summary>
    private static bool IsJson(string text)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var reader = new Utf8JsonReader(bytes.AsSpan(0, Encoding.UTF8.GetBytes(text, bytes)));
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read(); // nothing after the value
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Cuts every string longer than <paramref name="max"/> characters (error stacks, big messages).</summary>
    private static void TruncateStrings(JsonNode node, int max)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > max) obj[key] = s[..max] + "… [truncated]";
                    else if (value is not null) TruncateStrings(value, max);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > max) array[i] = s[..max] + "… [truncated]";
                    else if (array[i] is { } child) TruncateStrings(child, max);
                }
                break;
        }
    }

    // ---------------------------------------------------------------- listening

    public async Task ListenAsync(IClusterListener listener, CancellationToken cancellationToken)
    {
        _ = store.Dedicated; // an unopened store is a programming error, not a connection to retry
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        var stop = linked.Token;
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.Dedicated.OpenConnectionAsync(stop);
                connection.Notification += (_, e) => Dispatch(listener, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Migrations.QuoteIdentifier(ChannelName)}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }
                backoff = TimeSpan.FromMilliseconds(100);
                while (true)
                {
                    if (!await connection.WaitAsync(IdleCheck, stop))
                    {
                        // Quiet for a while: make sure the connection still lives (a dead one would never notify).
                        await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = (int)IdleCheck.TotalSeconds };
                        await ping.ExecuteScalarAsync(stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                // Connection lost or refused: reconnect after a pause that grows while the database stays away.
            }
            try
            {
                await Task.Delay(backoff, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private void Dispatch(IClusterListener listener, string payload)
    {
        // This node's own payloads come back on its LISTEN connection: Encode starts each with the node id, so they are
        // known without parsing (a payload written otherwise is still parsed and checked below).
        if (payload.StartsWith(OwnPrefix, StringComparison.Ordinal)) return;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload);
        }
        catch (JsonException)
        {
            return; // not ours
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("n", out var node) || node.GetString() == NodeId) return;
            if (root.TryGetProperty("r", out var ready))
            {
                foreach (var r in ready.EnumerateArray())
                {
                    Deliver(() => listener.OnReady(new ReadyNotice(r.GetProperty("o").GetGuid(), r.GetProperty("q").GetString()!, r.GetProperty("c").GetInt32())));
                }
            }
            if (root.TryGetProperty("e", out var events))
            {
                foreach (var e in events.EnumerateArray())
                {
                    Deliver(() => listener.OnEvent(new ClusterEvent(
                        e.GetProperty("t").GetString()!,
                        e.GetProperty("at").GetDateTimeOffset(),
                        e.GetProperty("o").GetGuid(),
                        e.TryGetProperty("d", out var d) ? d.GetRawText() : e.GetProperty("x").GetString()!)));
                }
            }
        }
    }

    /// <summary>A malformed notice or a failing listener must not stop the listening loop.</summary>
    private static void Deliver(Action deliver)
    {
        try
        {
            deliver();
        }
#pragma warning disable CA1031 // The listener is someone else's code running on our connection's reader; nothing it throws may end listening.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    // ---------------------------------------------------------------- leadership

    public async Task<ILeadership?> TryLeadAsync(CancellationToken cancellationToken)
    {
        var key = Keys.Of("leader", store.Schema);
        var connection = await store.Dedicated.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            cmd.Parameters.Long("key", key);
            if ((bool)(await cmd.ExecuteScalarAsync(cancellationToken))!)
            {
                var leadership = new Leadership(connection, key, l => _leaderships.TryRemove(l, out _));
                _leaderships.TryAdd(leadership, 0);
                return leadership;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>Leadership held as a session advisory lock; the lock goes with the connection.</summary>
    private sealed class Leadership : ILeadership
    {
        private readonly NpgsqlConnection _connection;
        private readonly long _key;
        private readonly Action<Leadership> _released;
        private readonly CancellationTokenSource _lost = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _monitor;
        private int _disposed;

        public Leadership(NpgsqlConnection connection, long key, Action<Leadership> released)
        {
            _connection = connection;
            _key = key;
            _released = released;
            _monitor = Task.Run(MonitorAsync);
        }

        public CancellationToken Lost => _lost.Token;

        private async Task MonitorAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(LeaderCheck, _stop.Token);
                    await using var ping = new NpgsqlCommand("SELECT 1", _connection) { CommandTimeout = 3 };
                    await ping.ExecuteScalarAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                // The connection broke, so the server released the lock: someone else may lead now.
                await _lost.CancelAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await _stop.CancelAsync();
            await _monitor;
            if (!_lost.IsCancellationRequested)
            {
                try
                {
                    await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection) { CommandTimeout = 3 };
                    unlock.Parameters.Long("key", _key);
                    await unlock.ExecuteScalarAsync();
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    // Closing the connection below releases the lock all the same.
                }
            }
            await _connection.DisposeAsync();
            _stop.Dispose();
            _released(this);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        if (_pump is { } pump)
        {
            // Let what is queued go out, but do not hang on a database that is gone.
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await _stop.CancelAsync();
        if (_pump is { } stopped) await stopped.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var leadership in _leaderships.Keys) await leadership.DisposeAsync();
    }
}
