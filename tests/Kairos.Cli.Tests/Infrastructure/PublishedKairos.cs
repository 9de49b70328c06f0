using System.Diagnostics;
using System.Reflection;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// The <c>kairos</c> CLI published once into a temporary folder, for the tests that run the real server as a process.
/// The test project's reference to Kairos.Cli builds it in the same configuration first, so a <c>--no-build</c> publish
/// of that build is enough (seconds); when that fails (no such build), a full Release publish is the fallback.
/// </summary>
public sealed class PublishedKairos : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);

    public PublishedKairos()
    {
        RepositoryRoot = FindRepositoryRoot();
        Folder = Path.Combine(Path.GetTempPath(), "kairos-cli-tests", "publish-" + Guid.NewGuid().ToString("N"));
    }

    public string RepositoryRoot { get; }

    /// <summary>The publish output folder.</summary>
    public string Folder { get; }

    /// <summary>The published entry assembly, run as <c>dotnet kairos.dll</c>.</summary>
    public string EntryAssembly => Path.Combine(Folder, "kairos.dll");

    /// <summary>The <c>dotnet</c> host running this test (set by the SDK), or the one on the PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public async Task InitializeAsync()
    {
        var project = Path.Combine(RepositoryRoot, "src", "Kairos.Cli", "Kairos.Cli.csproj");
        var configuration = typeof(PublishedKairos).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c
            ? c
            : "Debug";

        var quick = await RunDotnetAsync("publish", project, "-c", configuration, "--no-build", "--no-restore", "-o", Folder, "-nologo");
        if (quick.ExitCode == 0 && File.Exists(EntryAssembly)) return;

        var full = await RunDotnetAsync("publish", project, "-c", "Release", "-o", Folder, "-nologo");
        if (full.ExitCode != 0 || !File.Exists(EntryAssembly))
        {
            throw new InvalidOperationException(
                $"dotnet publish of {project} failed.\n--no-build attempt (exit {quick.ExitCode}):\n{quick.Output}\nfull attempt (exit {full.ExitCode}):\n{full.Output}");
        }
    }

    public Task DisposeAsync()
    {
        try
        {
            if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Task.CompletedTask;
    }

    private static async Task<(int ExitCode, string Output)> RunDotnetAsync(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(PublishTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kairos.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No folder holding Kairos.sln above {AppContext.BaseDirectory}.");
    }
}

[CollectionDefinition(Name)]
public sealed class KairosProcessCollection : ICollectionFixture<PublishedKairos>
{
    public const string Name = "kairos server process";
}
