using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kairos.Server.Tests;

/// <summary>One captured log line: its message, exception, the values of its state and of every scope it was logged in.</summary>
public sealed record LogLine(
    string Category, LogLevel Level, string Message, string? Exception,
    IReadOnlyList<KeyValuePair<string, object?>> State, IReadOnlyList<object?> Scopes)
{
    /// <summary>The value of the first scope property of this name (<c>request_id</c>), or null.</summary>
    public string? ScopeValue(string name) =>
        Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(s => s).Where(kv => kv.Key == name)
            .Select(kv => Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();

    /// <summary>Everything of the line as text: what a secret must not appear in.</summary>
    public string AllText() => string.Join('\n', new[] { Category, Message, Exception ?? "" }
        .Concat(State.Select(kv => $"{kv.Key}={kv.Value}"))
        .Concat(Scopes.Select(s => s?.ToString() ?? ""))
        .Concat(Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(s => s).Select(kv => $"{kv.Key}={kv.Value}")));

    public override string ToString() => $"{Level} {Category}: {Message}";
}

/// <summary>A logger provider that keeps every line (with its scopes) in memory, for tests.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<LogLine> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<object?>();
            capture._scopes.ForEachScope((scope, list) => list.Add(scope), scopes);
            var values = state is IEnumerable<KeyValuePair<string, object?>> kv ? kv.ToList() : [];
            capture._lines.Enqueue(new LogLine(category, logLevel, formatter(state, exception), exception?.ToString(), values, scopes));
        }
    }
}
