using System.CommandLine;
using Kairos.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Cli;

/// <summary><c>kairos server</c>: runs the server. Flags override KAIROS_* environment variables, which override defaults.</summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var port = new Option<int?>("--port") { Description = "TCP port to listen on (default 7700; env KAIROS_PORT)" };
        var data = new Option<string?>("--data") { Description = "Data folder (default ./kairos-data; env KAIROS_DATA)" };
        var bind = new Option<string?>("--bind") { Description = "Address to bind (default 127.0.0.1; env KAIROS_BIND)" };
        var durability = new Option<string?>("--durability")
        {
            Description = "normal: commits survive a process crash (default); full: also power loss (env KAIROS_DURABILITY)",
        };
        var maxPayload = new Option<int?>("--max-payload-bytes") { Description = "Largest job payload accepted (default 1048576; env KAIROS_MAX_PAYLOAD_BYTES)" };
        var store = new Option<string?>("--store") { Description = "sqlite (default, one file in the data folder) or postgres (env KAIROS_STORE)" };
        var databaseUrl = new Option<string?>("--database-url") { Description = "PostgreSQL connection string for --store postgres (env KAIROS_DATABASE_URL)" };
        var logFormat = new Option<string?>("--log-format") { Description = "json or text (default: text on a terminal, json otherwise; env KAIROS_LOG_FORMAT)" };
        var corsOrigins = new Option<string?>("--cors-origins")
        {
            Description = "Comma-separated origins whose pages may call the API with credentials, e.g. https://app.example.com (default: none; env KAIROS_CORS_ORIGINS)",
        };

        var metricsRetention = new Option<int?>("--metrics-retention-days")
        {
            Description = "How long the per-minute metrics behind the charts are kept, in days (default 90; env KAIROS_METRICS_RETENTION_DAYS)",
        };

        var command = new Command("server", "Run the Kairos server (embedded SQLite by default).");
        command.Options.Add(port);
        command.Options.Add(data);
        command.Options.Add(bind);
        command.Options.Add(durability);
        command.Options.Add(maxPayload);
        command.Options.Add(store);
        command.Options.Add(databaseUrl);
        command.Options.Add(logFormat);
        command.Options.Add(corsOrigins);
        command.Options.Add(metricsRetention);
        command.SetAction(async (parse, cancellationToken) =>
        {
            ServerOptions options;
            try
            {
                var env = new ConfigurationBuilder().AddEnvironmentVariables("KAIROS_").Build();
                options = ServerOptions.From(env);
                options = options with
                {
                    Port = parse.GetValue(port) ?? options.Port,
                    Data = parse.GetValue(data) ?? options.Data,
                    Bind = parse.GetValue(bind) ?? options.Bind,
                    Durability = parse.GetValue(durability) is { } d ? ServerOptions.ParseDurability(d) : options.Durability,
                    MaxPayloadBytes = parse.GetValue(maxPayload) ?? options.MaxPayloadBytes,
                    Store = parse.GetValue(store)?.ToLowerInvariant() ?? options.Store,
                    DatabaseUrl = parse.GetValue(databaseUrl) ?? options.DatabaseUrl,
                    LogFormat = parse.GetValue(logFormat)?.ToLowerInvariant() ?? options.LogFormat,
                    CorsOrigins = parse.GetValue(corsOrigins) is { } origins ? ServerOptions.ParseOrigins(origins) : options.CorsOrigins,
                    MetricsRetention = parse.GetValue(metricsRetention) is { } days ? TimeSpan.FromDays(days) : options.MetricsRetention,
                };
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: {ex.Message}");
                return 2;
            }
            var app = KairosServer.Build(options);
            try
            {
                await app.Services.GetRequiredService<StoreStartup>().OpenAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await Console.Error.WriteLineAsync($"kairos: cannot open the {options.Store} store: {OneLine(ex)}");
                await app.DisposeAsync();
                return 1;
            }
            try
            {
                await app.RunAsync();
                return 0;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: cannot start: {OneLine(ex)}");
                return 1;
            }
        });
        return command;
    }

    private static string OneLine(Exception ex) => ex.Message.ReplaceLineEndings(" ").Trim();
}
