using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime.Diagnostics;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Completes when this silo's host starts stopping (<see cref="IHostApplicationLifetime.ApplicationStopping"/>, before
/// Orleans deactivates anything), and tells a long-poll when the activation serving it starts deactivating.
/// Long-polls end at once then: Orleans deactivates a grain only after its running requests end, and holds every
/// other call to the grain meanwhile, so a 5-minute poll from another datacenter would otherwise hold the silo's stop
/// until its timeout (30 s measured) and, in a datacenter of several silos, block the datacenter-wide grain whose
/// directory entry lived on a silo that left (README "A datacenter of several silos"). The caller gets an answer or
/// "silo unavailable" and polls again, as when a silo dies.
/// </summary>
public sealed class SiloStopping : IDisposable
{
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IGrainContextAccessor? _contexts;
    // Per activation, completed when it starts deactivating; an entry lives as long as its activation.
    private readonly ConditionalWeakTable<IGrainContext, TaskCompletionSource> _deactivating = new();
    private readonly IDisposable? _subscription;

    /// <summary>Hooks the host's lifetime and Orleans' activation events when there are (a host without them never signals).</summary>
    public SiloStopping(IServiceProvider services)
    {
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() => _stopping.TrySetResult());
        _contexts = services.GetService<IGrainContextAccessor>();
        // Orleans publishes "deactivating" when it decides to deactivate an activation (idle collection, a directory
        // partition owner that left the cluster, the silo's stop), before it waits for the running requests.
        if (_contexts is not null) _subscription = GrainLifecycleEvents.AllEvents.Subscribe(new DeactivatingObserver(this));
    }

    /// <summary>Completes when the host starts stopping.</summary>
    public Task Task => _stopping.Task;

    /// <summary>True once the host has started stopping.</summary>
    public bool IsStopping => _stopping.Task.IsCompleted;

    /// <summary>
    /// Completes when the host starts stopping or the activation the caller runs in starts deactivating (outside an
    /// activation: the host's stop only). Call it from the grain's turn.
    /// </summary>
    public Task ForCurrentActivation()
    {
        if (_stopping.Task.IsCompleted || _contexts?.GrainContext is not { } context) return _stopping.Task;
        var deactivating = _deactivating.GetValue(context, NewSource).Task;
        return deactivating.IsCompleted ? deactivating : Task.WhenAny(_stopping.Task, deactivating);
    }

    /// <summary>True once the host has started stopping or the activation the caller runs in has started deactivating.</summary>
    public bool IsStoppingOrDeactivating =>
        IsStopping || (_contexts?.GrainContext is { } context && _deactivating.TryGetValue(context, out var d) && d.Task.IsCompleted);

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();

    private static TaskCompletionSource NewSource(IGrainContext _) => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class DeactivatingObserver(SiloStopping owner) : IObserver<GrainLifecycleEvents.LifecycleEvent>
    {
        public void OnNext(GrainLifecycleEvents.LifecycleEvent value)
        {
            // Recorded even when nothing waits yet: a request already running may start its wait afterwards.
            if (value is GrainLifecycleEvents.Deactivating) owner._deactivating.GetValue(value.GrainContext, NewSource).TrySetResult();
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
