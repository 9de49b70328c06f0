using Kairos.Server;

var app = KairosServer.Build(args: args);
await app.RunAsync();

/// <summary>The entry point, public for WebApplicationFactory.</summary>
public partial class Program;
