using System.Collections.Concurrent;
using System.Reflection;
using Meridian.Core.Validation;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Caps the long-polls a client of the gateway may have waiting at once in this silo at
/// <see cref="InputLimits.MaxLongPollsPerCaller"/> (issue 12 §5); one more is refused at once with
/// <see cref="MeridianErrorKind.RateLimited"/>, and nothing waits. A long-poll is a Meridian contract method with a
/// <see cref="ResponseTimeoutAttribute"/> (only the waits have one). The silo's own grains and hosted services are not
/// counted: their waits (cache sync, signer sync, replication) are bounded by construction.
/// </summary>
internal sealed class LongPollLimitFilter : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> LongPolls = new();
    private static readonly Assembly Contracts = typeof(Surface).Assembly;

    private readonly ConcurrentDictionary<GrainId, int> _waiting = new();

    /// <summary>Long-polls of gateway clients waiting in this silo now, all clients together.</summary>
    public int WaitingTotal => _waiting.Values.Sum();

    /// <inheritdoc />
    public Task Invoke(IIncomingGrainCallContext context)
    {
        // Every call passes here (authorize included): anything but a gateway client's long-poll goes straight on,
        // with one dictionary lookup and no state machine of its own.
        if (context.InterfaceMethod is not { } method || !LongPolls.GetOrAdd(method, IsLongPoll)
            || context.SourceId is not { } caller || !ClusterSealFilter.IsGatewayClient(caller))
            return context.Invoke();
        return InvokeCountedAsync(context, method, caller);
    }

    private async Task InvokeCountedAsync(IIncomingGrainCallContext context, MethodInfo method, GrainId caller)
    {
        var count = _waiting.AddOrUpdate(caller, 1, (_, n) => n + 1);
        try
        {
            if (count > InputLimits.MaxLongPollsPerCaller)
                throw new MeridianException(
                    $"{method.DeclaringType?.Name}.{method.Name}: this client already has {InputLimits.MaxLongPollsPerCaller} " +
                    "long-polls waiting in this silo, the most allowed; wait for one to answer before starting another",
                    MeridianErrorKind.RateLimited);
            await context.Invoke();
        }
        finally
        {
            // Decrement, and forget a client with none left, so the map holds only callers with waits in progress.
            if (_waiting.AddOrUpdate(caller, 0, (_, n) => n - 1) <= 0) _waiting.TryRemove(new(caller, 0));
        }
    }

    private static bool IsLongPoll(MethodInfo method)
        => method.DeclaringType?.Assembly == Contracts && method.GetCustomAttribute<ResponseTimeoutAttribute>() is not null;
}
