using System.Text.Json;
using Kairos.Core.Alerts;
using Kairos.Core.Auth;
using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Monitors;
using Kairos.Core.Metrics;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Server.Apis;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Kairos.Server.Alerts;
using Kairos.Server.Outbound;
using Kairos.Server.Webhooks;
using Kairos.Storage.Postgres;
using Kairos.Storage.Sqlite;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Kairos.Server;

/// <summary>Builds the Kairos server: services, middleware and every endpoint.</summary>
public static class KairosServer
{
    /// <param name="options">Settings; when null they are read from <c>KAIROS_*</c> environment variables.</param>
    /// <param name="args">Host arguments (tests, hosting overrides).</param>
    public static WebApplication Build(ServerOptions? options = null, string[]? args = null)
    {
        // No appsettings files are watched: settings come from flags and KAIROS_* variables, read once.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"] });
        builder.Configuration.AddEnvironmentVariables("KAIROS_");
        options ??= ServerOptions.From(builder.Configuration);
        builder.WebHost.UseUrls($"http://{options.Bind}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 256L * 1024 * 1024);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Hosting's request scope (RequestPath) would put the path on every line logged during a request, and a ping URL's
        // path is its key: without it no line carries a path; the server's own request_id scope ties lines to requests.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // API keys carry no data-protected payloads; the ephemeral key ring it warns about is not used.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        ConfigureLogging(builder.Logging, options);
        AddServices(builder.Services, options);
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    /// <summary>
    /// Console logs as JSON (one object a line, with its scopes: <c>request_id</c> on every line logged during a
    /// request) or as text, as <see cref="ServerOptions.LogFormat"/> says; by default text on a terminal, JSON when
    /// stdout is redirected (a service manager, a container, a pipe).
    /// </summary>
    internal static void ConfigureLogging(ILoggingBuilder logging, ServerOptions options)
    {
        var json = options.LogFormat switch
        {
            "json" => true,
            "text" => false,
            _ => Console.IsOutputRedirected,
        };
        if (json)
        {
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        else
        {
            logging.AddSimpleConsole(o => o.IncludeScopes = true);
        }
    }

    public static void AddServices(IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IKairosStore>(sp =>
        {
            var o = sp.GetRequiredService<ServerOptions>();
            var time = sp.GetRequiredService<TimeProvider>();
            return o.Store == "postgres"
                ? new PostgresStore(new PostgresStoreOptions { ConnectionString = o.DatabaseUrl! }, time)
                : new SqliteStore(new SqliteStoreOptions { Path = o.DatabasePath, Durability = o.Durability }, time);
        });
        services.AddSingleton<ReadySignal>();
        services.AddSingleton(sp =>
        {
            var bus = new EventBus(sp.GetRequiredService<TimeProvider>());
            if (sp.GetRequiredService<IKairosStore>().Cluster is { } cluster)
            {
                bus.Forward = e => cluster.PublishEvent(new ClusterEvent(e.Type, e.Time, e.OrganizationId, JsonSerializer.Serialize(e.Data, Json.Options)));
            }
            return bus;
        });
        services.AddSingleton<MaintenanceClock>();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<MetricsRecorder>();
        services.AddSingleton(sp => new MetricsSampler(sp.GetRequiredService<IKairosStore>(), sp.GetRequiredService<TimeProvider>())
        {
            Retention = sp.GetRequiredService<ServerOptions>().MetricsRetention,
        });
        services.AddSingleton<BulkJobCommands>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<MonitorWatch>();
        services.AddSingleton<PingKeys>();
        services.AddPingRateLimit();
        services.AddSingleton<OutboundHttp>();
        services.AddSingleton<ChannelSecrets>();
        services.AddSingleton<IChannelSender, SlackChannel>();
        services.AddSingleton<IChannelSender, WebhookChannel>();
        services.AddSingleton<IChannelSender, EmailChannel>();
        services.AddSingleton<IChannelSender, PagerDutyChannel>();
        services.AddSingleton<AlertNotifier>();
        services.AddSingleton<IAlertNotifier>(sp => sp.GetRequiredService<AlertNotifier>());
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<WebhookService>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ServerClock>();
        services.AddSingleton<StoreStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreStartup>());
        // After the store's start: Data Protection reads its key ring (kept in the store) when it starts.
        services.AddSecretBox();
        services.AddHostedService<MaintenanceService>();
        services.AddHostedService<ClusterService>();
        services.AddHostedService<MetricsService>();
        services.AddHostedService<WebhookPublisher>();
        services.AddHostedService<WebhookDeliverer>();

        services.AddKairosAuth();
        services.AddSingleton<AuditRecorder>();
        // Cross-origin calls: none unless ServerOptions.CorsOrigins lists origins (read when the policy is first needed,
        // so that the options registered last win).
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<ServerOptions>((cors, o) => cors.AddDefaultPolicy(p => p
            .WithOrigins([.. o.CorsOrigins]).AllowAnyMethod().AllowAnyHeader().AllowCredentials()
            .WithExposedHeaders(RequestHeaders.RequestIdHeader, "Location", "Retry-After").SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Extensions["request_id"] = c.HttpContext.TraceIdentifier;
            c.ProblemDetails.Type ??= $"https://httpstatuses.io/{c.ProblemDetails.Status}";
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Kairos API";
            doc.Info.Version = SystemApi.Version;
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key: Authorization: Bearer kx_...",
            };
            doc.Components.SecuritySchemes["session"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = SessionAuthentication.CookieName,
                Description = $"The console's session (POST /api/v1/auth/login); unsafe requests also send {AuthSetup.CsrfHeader}.",
            };
            doc.Security ??= [];
            doc.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", doc)] = [] });
            doc.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("session", doc)] = [] });
            return Task.CompletedTask;
        }));
    }

    /// <summary>Host, port and database of a PostgreSQL connection string, never its password.</summary>
    internal static string DescribeDatabase(string connectionString)
    {
        var b = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        string Get(string key, string fallback) => b.TryGetValue(key, out var v) && v is string { Length: > 0 } s ? s : fallback;
        return $"postgres://{Get("Host", "localhost")}:{Get("Port", "5432")}/{Get("Database", "")}";
    }

    public static void MapEndpoints(WebApplication app)
    {
        app.UseRequestHeaders();
        // Routing after the request id, so that what routing logs carries it too.
        app.UseRouting();
        if (app.Services.GetRequiredService<ServerOptions>().CorsOrigins.Count > 0) app.UseCors();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseKairosAuth();
        app.UseWebSockets();

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        // Scalar's bundle is served from this server; no CDN fonts; a nonce per page for its inline start-up script (the CSP of /docs).
        app.MapScalarApiReference("/docs", o => o.WithTitle("Kairos API").WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableDefaultFonts().WithNonce()).AllowAnonymous();
        app.MapHealth();
        app.MapWebConsole(WebConsole.FindRoot(app.Environment.ContentRootPath));

        var api = app.MapGroup("/api/v1").RecordAudit();
        var maxPayload = app.Services.GetRequiredService<ServerOptions>().MaxPayloadBytes;
        api.MapJobsApi();
        api.MapWorkerProtocolApi();
        api.MapWorkersApi();
        api.MapQueuesApi();
        api.MapSchedulesApi();
        api.MapMonitorsApi();
        api.MapWorkflowsApi();
        api.MapWorkflowTemplatesApi();
        api.MapSystemApi();
        api.MapEventsApi();
        api.MapLiveApi();
        api.MapMetricsApi();
        api.MapApiKeysApi();
        api.MapAuthApi();
        api.MapOrganizationsApi();
        api.MapMembersApi();
        api.MapProfileApi();
        api.MapAuditApi();
        api.MapAlertChannelsApi();
        api.MapAlertRulesApi();
        api.MapManifestsApi();
        api.MapIncidentsApi();
        api.MapMaintenanceWindowsApi();
        api.MapWebhooksApi();
        // Check-in pings: anonymous (the key is the credential), outside /api/v1 and its audit filter.
        app.MapPingApi();
        _ = maxPayload;

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var o = app.Services.GetRequiredService<ServerOptions>();
            var addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
            if (addresses is { Count: > 0 })
            {
                var store = app.Services.GetRequiredService<IKairosStore>();
                var where = o.Store == "postgres" ? DescribeDatabase(o.DatabaseUrl!) : Path.GetFullPath(o.Data);
                Console.WriteLine($"Kairos {SystemApi.Version} listening on {string.Join(", ", addresses)} (store: {store.Driver}, data: {where})");
                if (app.Services.GetRequiredService<SetupToken>().TakeForPrinting() is { } token)
                {
                    Console.WriteLine($"Open {SetupToken.Link(addresses.First(), token)} to create the first user");
                }
            }
        });
    }
}

/// <summary>Opens and migrates the store before anything else starts, and creates the bootstrap admin key.</summary>
public sealed class StoreStartup(IKairosStore store, ServerOptions options, ServerClock clock, SetupToken setup, ILogger<StoreStartup> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private bool _done;

    public Task StartAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    public void Dispose() => _once.Dispose();

    /// <summary>Opens the store once; the CLI calls it before starting the host so that a failure is one clear line.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        await _once.WaitAsync(cancellationToken);
        try
        {
            if (_done) return;
            await OpenCoreAsync(cancellationToken);
            _done = true;
        }
        finally
        {
            _once.Release();
        }
    }

    private async Task OpenCoreAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        logger.LogDebug("Store {Driver} open since {Started}", store.Driver, clock.StartedAt);
        await setup.PrepareAsync(store, cancellationToken);
        if (options.AdminApiKey is { } key)
        {
            var hash = ApiKeySecrets.Hash(key);
            if (await store.ApiKeys.FindByHashAsync(hash, cancellationToken) is null)
            {
                try
                {
                    await store.ApiKeys.CreateAsync(new CreateApiKeyParams(Organizations.Default, "bootstrap admin (KAIROS_ADMIN_API_KEY)",
                        ApiKeySecrets.VisiblePrefix(key), hash, ApiKeyScopes.Admin, null), cancellationToken);
                    logger.LogInformation("Created the bootstrap admin API key from KAIROS_ADMIN_API_KEY");
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Another node starting on the same database may have created it first (the hash is unique).
                    if (await store.ApiKeys.FindByHashAsync(hash, cancellationToken) is null) throw;
                }
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Hosts the maintenance loop (lost workers, expired leases, due jobs), the scheduler (due schedules), the monitor
/// watch (late and down check-in monitors), the queue metrics sampler and the alert evaluation. With several
/// nodes on one store, only the leader runs them; the others keep trying, so one takes over within a few seconds when
/// the leader dies.
/// </summary>
internal sealed class MaintenanceService(
    Dispatcher dispatcher, MaintenanceClock clock, Scheduler scheduler, MonitorWatch monitors, MetricsSampler sampler, AlertEvaluator alerts, ServerOptions options,
    IKairosStore store, TimeProvider time, ILogger<MaintenanceService> logger)
    : BackgroundService
{
    private static readonly TimeSpan LeadershipRetry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loop = new MaintenanceLoop(dispatcher, clock, new MaintenanceOptions
        {
            WorkerHeartbeatTimeout = options.WorkerHeartbeatTimeout,
            OnError = ex => logger.LogError(ex, "Maintenance pass failed"),
        });
        scheduler.OnError = ex => logger.LogError(ex, "Firing schedules failed");
        monitors.OnError = ex => logger.LogError(ex, "Evaluating monitors failed");
        sampler.OnError = ex => logger.LogError(ex, "Sampling queue metrics failed");
        alerts.OnError = ex => logger.LogError(ex, "Evaluating alert rules failed");
        if (store.Cluster is not { } cluster)
        {
            await Task.WhenAll(loop.RunAsync(stoppingToken), scheduler.RunAsync(stoppingToken), monitors.RunAsync(stoppingToken), sampler.RunAsync(stoppingToken),
                alerts.RunAsync(stoppingToken));
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            ILeadership? leadership = null;
            try
            {
                leadership = await cluster.TryLeadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Could not ask for leadership: {Message}", ex.Message);
            }
            if (leadership is null)
            {
                try { await Task.Delay(LeadershipRetry, time, stoppingToken); } catch (OperationCanceledException) { return; }
                continue;
            }
            await using (leadership)
            {
                logger.LogInformation("Node {Node} leads the maintenance loop", cluster.NodeId);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership.Lost);
                await Task.WhenAll(loop.RunAsync(both.Token), scheduler.RunAsync(both.Token), monitors.RunAsync(both.Token), sampler.RunAsync(both.Token),
                    alerts.RunAsync(both.Token));
                if (!stoppingToken.IsCancellationRequested) logger.LogWarning("Node {Node} lost leadership", cluster.NodeId);
            }
        }
    }
}

/// <summary>
/// Every node: flushes the job metrics it counted in memory to the store's rollup every few seconds, and once more when
/// the node stops (see <see cref="MetricsRecorder"/>).
/// </summary>
internal sealed class MetricsService(MetricsRecorder recorder, ILogger<MetricsService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        recorder.OnError = ex => logger.LogWarning("Could not write job metrics (kept for the next flush): {Message}", ex.Message);
        return recorder.RunAsync(stoppingToken);
    }
}

/// <summary>Receives the other nodes' wake-ups and events (multi-node stores only).</summary>
internal sealed class ClusterService(IKairosStore store, ReadySignal signal, EventBus events, ILogger<ClusterService> logger)
    : BackgroundService, IClusterListener
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store.Cluster is not { } cluster) return;
        try
        {
            await cluster.ListenAsync(this, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public void OnReady(ReadyNotice notice) => signal.Notify(notice.OrganizationId, notice.Queue, notice.Count);

    public void OnEvent(ClusterEvent e)
    {
        try
        {
            using var doc = JsonDocument.Parse(e.DataJson);
            events.PublishFromPeer(e.Type, e.Time, e.OrganizationId, doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            logger.LogWarning("Dropped an unreadable event from another node: {Message}", ex.Message);
        }
    }
}
