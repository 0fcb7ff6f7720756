namespace Meridian.Grains;

/// <summary>
/// Wakes long-poll waiters when a grain's index moves. Used inside one grain activation (single-threaded, or
/// interleaved only at awaits), so no locking is needed. Waiters always re-read state after waking, so a missed
/// wake-up cannot lose a change: the index the caller passes is the source of truth. Once the silo starts stopping or
/// the activation starts deactivating (<paramref name="stopping"/>) every wait ends at once, so no poll holds the
/// silo's stop or the activation's move to another silo (and every call queued behind it).
/// </summary>
internal sealed class ChangeSignal(Hosting.SiloStopping? stopping = null)
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True once the silo has started stopping or the activation deactivating: long-poll loops answer with what they have.</summary>
    public bool Stopping => stopping?.IsStoppingOrDeactivating == true;

    /// <summary>Completes every pending wait.</summary>
    public void Notify()
    {
        var old = _changed;
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    /// <summary>Waits for the next <see cref="Notify"/>, the timeout or cancellation, whichever comes first. Never throws on timeout.</summary>
    /// <paramref name="alsoWakeOn"/>, when given, ends the wait too (a change outside this grain).
    public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken, Task? alsoWakeOn = null)
    {
        if (timeout <= TimeSpan.Zero || Stopping) return;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, clock, cts.Token);
        await Task.WhenAny(_changed.Task, delay, alsoWakeOn ?? delay, stopping?.ForCurrentActivation() ?? delay);
        cts.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Caps a caller-supplied wait: Consul's blocking queries allow at most 10 minutes.</summary>
    public static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;

    /// <summary>The longest wait a long-poll accepts (below the methods' 10.5-minute response timeout).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);
}
