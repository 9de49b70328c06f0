using System.CommandLine;
using Kairos.Server;
using Microsoft.Extensions.Configuration;

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

        var command = new Command("server", "Run the Kairos server (embedded SQLite by default).");
        command.Options.Add(port);
        command.Options.Add(data);
        command.Options.Add(bind);
        command.Options.Add(durability);
        command.Options.Add(maxPayload);
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
                };
                if (options.Port is < 0 or > 65535) throw new ArgumentException($"port must be between 0 and 65535, not {options.Port}");
                if (options.MaxPayloadBytes < 1) throw new ArgumentException("max payload bytes must be positive");
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: {ex.Message}");
                return 2;
            }
            try
            {
                var app = KairosServer.Build(options);
                await app.RunAsync();
                return 0;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: cannot start: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
