using System.Globalization;
using Kairos.Storage.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Kairos.Server;

/// <summary>
/// The server's settings. Sources, strongest first: command-line flags (the CLI), <c>KAIROS_*</c> environment
/// variables, defaults.
/// </summary>
public sealed record ServerOptions
{
    public int Port { get; init; } = 7700;
    public string Bind { get; init; } = "127.0.0.1";
    public string Data { get; init; } = "./kairos-data";
    public SqliteDurability Durability { get; init; } = SqliteDurability.Normal;
    /// <summary>The largest job payload accepted, in bytes (413 above it).</summary>
    public int MaxPayloadBytes { get; init; } = 1024 * 1024;
    /// <summary>When set, this key exists with admin scope in the default organization (headless bootstrap).</summary>
    public string? AdminApiKey { get; init; }
    public TimeSpan WorkerHeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long the metrics rollup keeps its minutes (charts' history), independent of the jobs' retention.</summary>
    public TimeSpan MetricsRetention { get; init; } = TimeSpan.FromDays(90);

    /// <summary><c>sqlite</c> (default: one file in <see cref="Data"/>) or <c>postgres</c> (<see cref="DatabaseUrl"/>).</summary>
    public string Store { get; init; } = "sqlite";
    /// <summary>The PostgreSQL connection string, for <c>--store postgres</c>.</summary>
    public string? DatabaseUrl { get; init; }

    /// <summary><c>json</c> (one JSON object a line, with scopes) or <c>text</c>; null: text on a terminal, JSON otherwise.</summary>
    public string? LogFormat { get; init; }

    /// <summary>
    /// Origins (<c>https://app.example.com</c>) whose browser pages may call the API, with credentials. Empty (the
    /// default): no cross-origin access at all.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>
    /// Whether webhooks and alert channels may call internal addresses (loopback, private networks, link-local). Off by
    /// default (SSRF protection); on for a server whose receivers live in its own network.
    /// </summary>
    public bool OutboundAllowPrivate { get; init; }
    /// <summary>How long one outbound call (a webhook delivery, a notification) may take.</summary>
    public TimeSpan OutboundTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string DatabasePath => Path.Combine(Data, "kairos.db");

    /// <summary>Throws <see cref="ArgumentException"/> with one clear line when the settings cannot work together.</summary>
    public ServerOptions Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"port must be between 0 and 65535, not {Port}");
        if (MaxPayloadBytes < 1) throw new ArgumentException("max payload bytes must be positive");
        if (MetricsRetention < TimeSpan.FromDays(1)) throw new ArgumentException("metrics retention must be at least 1 day");
        if (Store is not ("sqlite" or "postgres")) throw new ArgumentException($"store must be 'sqlite' or 'postgres', not '{Store}'");
        if (Store == "postgres" && string.IsNullOrWhiteSpace(DatabaseUrl))
        {
            throw new ArgumentException("--store postgres needs --database-url (or KAIROS_DATABASE_URL), e.g. \"Host=localhost;Database=kairos;Username=kairos;Password=...\"");
        }
        if (OutboundTimeout <= TimeSpan.Zero) throw new ArgumentException("outbound timeout must be positive");
        if (LogFormat is not (null or "json" or "text")) throw new ArgumentException($"log format must be 'json' or 'text', not '{LogFormat}'");
        foreach (var origin in CorsOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/"
                || origin.EndsWith('/') || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new ArgumentException($"CORS origin '{origin}' is not an origin such as https://app.example.com (scheme, host and port only)");
            }
        }
        return this;
    }

    /// <summary>Reads settings from configuration keys named like the environment variables without their prefix (PORT, DATA, ...).</summary>
    public static ServerOptions From(IConfiguration config)
    {
        var o = new ServerOptions();
        return o with
        {
            Port = Int(config, "PORT") ?? o.Port,
            Bind = config["BIND"] is { Length: > 0 } bind ? bind : o.Bind,
            Data = config["DATA"] is { Length: > 0 } data ? data : o.Data,
            Durability = config["DURABILITY"] is { Length: > 0 } d ? ParseDurability(d) : o.Durability,
            MaxPayloadBytes = Int(config, "MAX_PAYLOAD_BYTES") ?? o.MaxPayloadBytes,
            AdminApiKey = config["ADMIN_API_KEY"] is { Length: > 0 } key ? key : null,
            WorkerHeartbeatTimeout = Int(config, "WORKER_HEARTBEAT_TIMEOUT_MS") is { } ms ? TimeSpan.FromMilliseconds(ms) : o.WorkerHeartbeatTimeout,
            MetricsRetention = Int(config, "METRICS_RETENTION_DAYS") is { } days ? TimeSpan.FromDays(days) : o.MetricsRetention,
            Store = config["STORE"] is { Length: > 0 } store ? store.ToLowerInvariant() : o.Store,
            DatabaseUrl = config["DATABASE_URL"] is { Length: > 0 } url ? url : null,
            LogFormat = config["LOG_FORMAT"] is { Length: > 0 } format ? format.ToLowerInvariant() : null,
            CorsOrigins = config["CORS_ORIGINS"] is { Length: > 0 } origins ? ParseOrigins(origins) : o.CorsOrigins,
            OutboundAllowPrivate = config["OUTBOUND_ALLOW_PRIVATE"] is { Length: > 0 } allow ? ParseBool("OUTBOUND_ALLOW_PRIVATE", allow) : o.OutboundAllowPrivate,
            OutboundTimeout = Int(config, "OUTBOUND_TIMEOUT_MS") is { } timeout ? TimeSpan.FromMilliseconds(timeout) : o.OutboundTimeout,
        };
    }

    /// <summary>A comma-separated list of origins.</summary>
    public static IReadOnlyList<string> ParseOrigins(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase)];

    public static SqliteDurability ParseDurability(string value) => value.ToLowerInvariant() switch
    {
        "normal" => SqliteDurability.Normal,
        "full" => SqliteDurability.Full,
        _ => throw new ArgumentException($"durability must be 'normal' or 'full', not '{value}'"),
    };

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ArgumentException($"{key} must be true or false, not '{value}'"),
    };

    private static int? Int(IConfiguration config, string key)
    {
        var value = config[key];
        if (string.IsNullOrEmpty(value)) return null;
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ArgumentException($"{key} must be an integer, not '{value}'");
    }
}
