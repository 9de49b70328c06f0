using System.Text.Json;

namespace Kairos.Client;

/// <summary>Where the server is, the key to use, and how to retry.</summary>
public sealed class KairosClientOptions
{
    /// <summary>The server, e.g. <c>http://localhost:7700</c>.</summary>
    public Uri BaseAddress { get; set; } = new("http://localhost:7700");

    /// <summary>An API key (<c>kx_...</c>) with the scopes the calls need: admin, worker or read.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The queue of an enqueue that names none.</summary>
    public string DefaultQueue { get; set; } = "default";

    /// <summary>How often a call that is safe to repeat is tried again after a transient failure (0 turns retries off).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first retry's delay; it doubles with each retry, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How payloads and results are written and read (snake_case by default, like the API).</summary>
    public JsonSerializerOptions PayloadSerializerOptions { get; set; } = KairosJson.PayloadDefaults;
}
