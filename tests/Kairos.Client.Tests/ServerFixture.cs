using System.Diagnostics;
using Kairos.Client.Hosting;
using Kairos.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Kairos.Client.Tests;

/// <summary>
/// The real Kairos server in this process on a free loopback port, on its own SQLite file in a temporary folder.
/// Clients reach it over real HTTP.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string AdminKey = "kx_client_tests_admin_5c0ffee5c0ffee";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "kairos-client-tests", Guid.NewGuid().ToString("N"));
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = new("http://invalid/");

    /// <summary>The server's services (to flush its metrics, for example).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        _app = KairosServer.Build(new ServerOptions { Port = 0, Data = _data, AdminApiKey = AdminKey });
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder left behind fails nothing
        }
    }

    /// <summary>A client with the admin key (or the given options).</summary>
    public KairosClient Client(Action<KairosClientOptions>? configure = null, HttpMessageHandler? handler = null)
    {
        var options = new KairosClientOptions { BaseAddress = BaseAddress, ApiKey = AdminKey, RetryDelay = TimeSpan.FromMilliseconds(20) };
        configure?.Invoke(options);
        return new KairosClient(handler is null ? new HttpClient() : new HttpClient(handler), options);
    }

    /// <summary>A generic host running the SDK worker host against this server; started by the caller.</summary>
    public IHost WorkerHost(ITestOutputHelper output, Action<KairosWorkerOptions> configure, Action<IKairosWorkerBuilder> handlers,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new TestLoggerProvider(output));
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.AddKairosClient(o =>
        {
            o.BaseAddress = BaseAddress;
            o.ApiKey = AdminKey;
            o.RetryDelay = TimeSpan.FromMilliseconds(20);
        });
        handlers(builder.Services.AddKairosWorker(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(300);
            o.FetchWait = TimeSpan.FromSeconds(5);
            configure(o);
        }));
        services?.Invoke(builder.Services);
        return builder.Build();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "kairos server";
}

/// <summary>Waits for conditions, never for time.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout}; last seen: {Describe(value)}");
            await Task.Delay(20);
        }
    }

    public static async Task WaitAsync(Func<bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for a task with a deadline: the test fails instead of hanging.</summary>
    public static async Task<T> Within<T>(this Task<T> task, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout)) != task) throw new TimeoutException($"{what}: not within {timeout}");
        return await task;
    }

    public static async Task Within(this Task task, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout)) != task) throw new TimeoutException($"{what}: not within {timeout}");
        await task;
    }

    private static string Describe<T>(T value) => value switch
    {
        Job j => $"job {j.Id} {j.State} attempt {j.Attempt}",
        _ => value?.ToString() ?? "null",
    };
}

internal sealed class TestLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}");
            }
            catch (InvalidOperationException)
            {
                // the test has ended
            }
        }
    }
}
