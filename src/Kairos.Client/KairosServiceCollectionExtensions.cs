using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kairos.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Kairos.Client;

/// <summary>The handle to add job handlers to a worker registered with <c>AddKairosWorker</c>.</summary>
public interface IKairosWorkerBuilder
{
    IServiceCollection Services { get; }
}

/// <summary><c>services.AddKairosClient(...)</c> and <c>services.AddKairosWorker(...).AddHandler&lt;THandler, TPayload&gt;("type")</c>.</summary>
public static class KairosServiceCollectionExtensions
{
    /// <summary>Registers <see cref="KairosClient"/> as a typed client of <see cref="IHttpClientFactory"/>.</summary>
    public static IHttpClientBuilder AddKairosClient(this IServiceCollection services, Action<KairosClientOptions> configure)
    {
        services.Configure(configure);
        return services.AddHttpClient<KairosClient>();
    }

    /// <summary>
    /// Adds the worker host (a hosted service) that runs the handlers added with <c>AddHandler</c>. Needs
    /// <see cref="AddKairosClient"/> for the server and key (a key with the <c>worker</c> scope).
    /// </summary>
    public static IKairosWorkerBuilder AddKairosWorker(this IServiceCollection services, Action<KairosWorkerOptions>? configure = null)
    {
        if (configure is not null) services.Configure(configure);
        if (!services.Any(d => d.ServiceType == typeof(KairosWorker)))
        {
            services.AddSingleton<KairosWorker>();
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KairosWorker>());
        }
        return new Builder(services);
    }

    /// <summary>Runs jobs of <paramref name="type"/> with <typeparamref name="THandler"/> (scoped: one instance per job).</summary>
    public static IKairosWorkerBuilder AddHandler<THandler, TPayload>(this IKairosWorkerBuilder builder, string type, JsonTypeInfo<TPayload>? typeInfo = null)
        where THandler : class, IJobHandler<TPayload>
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        builder.Services.TryAddScoped<THandler>();
        builder.Services.Configure<KairosWorkerOptions>(o => o.Handlers[type] = new HandlerDescriptor(type, typeof(THandler),
            async (sp, payload, context, json) =>
            {
                var value = Read(payload, json, typeInfo);
                await sp.GetRequiredService<THandler>().HandleAsync(value, context);
                return null;
            }));
        return builder;
    }

    /// <summary>Runs jobs of <paramref name="type"/> with <typeparamref name="THandler"/>, whose return value becomes the job's result.</summary>
    public static IKairosWorkerBuilder AddHandler<THandler, TPayload, TResult>(this IKairosWorkerBuilder builder, string type,
        JsonTypeInfo<TPayload>? payloadInfo = null, JsonTypeInfo<TResult>? resultInfo = null)
        where THandler : class, IJobHandler<TPayload, TResult>
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        builder.Services.TryAddScoped<THandler>();
        builder.Services.Configure<KairosWorkerOptions>(o => o.Handlers[type] = new HandlerDescriptor(type, typeof(THandler),
            async (sp, payload, context, json) =>
            {
                var value = Read(payload, json, payloadInfo);
                var result = await sp.GetRequiredService<THandler>().HandleAsync(value, context);
                return resultInfo is not null ? JsonSerializer.SerializeToElement(result, resultInfo) : JsonSerializer.SerializeToElement(result, json);
            }));
        return builder;
    }

    private static T Read<T>(JsonElement payload, JsonSerializerOptions json, JsonTypeInfo<T>? typeInfo)
    {
        try
        {
            var value = typeInfo is not null ? payload.Deserialize(typeInfo) : payload.Deserialize<T>(json);
            return value ?? throw new NonRetryableException($"The payload is null; a {typeof(T).Name} was expected.");
        }
        catch (JsonException ex)
        {
            throw new NonRetryableException($"The payload is not a {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    private sealed class Builder(IServiceCollection services) : IKairosWorkerBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
