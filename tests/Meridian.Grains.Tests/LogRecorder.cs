using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Tests;

/// <summary>Records the log events of a silo with a given event id, so a test can wait for one (a signal, not a sleep).</summary>
public sealed class LogRecorder(int eventId) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly SemaphoreSlim _written = new(0);

    public IReadOnlyCollection<string> Messages => _messages;

    /// <summary>Waits up to <paramref name="timeout"/> for a recorded message that satisfies <paramref name="match"/>.</summary>
    public async Task<bool> WaitForAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!_messages.Any(match))
        {
            try { await _written.WaitAsync(cts.Token); }
            catch (OperationCanceledException) { return _messages.Any(match); }
        }
        return true;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() => _written.Dispose();

    private sealed class Logger(LogRecorder recorder) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != recorder.EventId) return;
            recorder._messages.Enqueue(formatter(state, exception));
            recorder._written.Release();
        }
    }

    private int EventId { get; } = eventId;
}
