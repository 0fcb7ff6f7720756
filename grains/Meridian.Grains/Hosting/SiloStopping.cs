using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Completes when this silo's host starts stopping (<see cref="IHostApplicationLifetime.ApplicationStopping"/>, before
/// Orleans deactivates anything). Long-polls served here end at once then: Orleans deactivates a grain only after its
/// running requests end, so a 5-minute poll from another datacenter would otherwise hold the silo's stop until its
/// timeout (30 s measured). The caller gets an answer or "silo unavailable" and polls again, as when a silo dies.
/// </summary>
public sealed class SiloStopping
{
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Hooks the host's lifetime when there is one (a host without it never signals).</summary>
    public SiloStopping(IServiceProvider services)
        => services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() => _stopping.TrySetResult());

    /// <summary>Completes when the host starts stopping.</summary>
    public Task Task => _stopping.Task;

    /// <summary>True once the host has started stopping.</summary>
    public bool IsStopping => _stopping.Task.IsCompleted;
}
