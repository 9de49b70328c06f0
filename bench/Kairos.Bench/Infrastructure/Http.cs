using System.Net;
using System.Net.Http.Headers;

namespace Kairos.Bench.Infrastructure;

public static class Http
{
    /// <summary>
    /// A client the way a real one is set up: SocketsHttpHandler, pooled keep-alive connections, enough of them for
    /// the concurrency asked, HTTP/1.1 (what the server speaks on plain http).
    /// </summary>
    public static HttpClient Client(Uri baseAddress, string apiKey, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            UseCookies = false,
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        client.DefaultRequestVersion = HttpVersion.Version11;
        return client;
    }

    public static async Task EnsureOkAsync(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync();
        throw new InvalidOperationException($"{what}: HTTP {(int)response.StatusCode} {body}");
    }
}
