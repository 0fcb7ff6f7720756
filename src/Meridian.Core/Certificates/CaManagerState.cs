namespace Meridian.Core.Certificates;

/// <summary>The CA manager's states (SPEC §3.7); <see cref="CaStateMachine.WireName"/> gives Consul's text.</summary>
public enum CaManagerState
{
    /// <summary><c>UNINITIALIZED</c>: no usable CA yet (start, failed initialisation, lost leadership).</summary>
    Uninitialized,
    /// <summary><c>INITIALIZING</c>: initialisation in progress.</summary>
    Initializing,
    /// <summary><c>INITIALIZED</c>: ready; the only state from which renewal starts.</summary>
    Initialized,
    /// <summary><c>RENEWING</c>: intermediate renewal in progress.</summary>
    Renewing,
    /// <summary><c>RECONFIGURING</c>: configuration change or secondary root update in progress.</summary>
    Reconfiguring,
}

/// <summary>The result of <see cref="CaStateMachine.TryBegin"/>.</summary>
/// <param name="Succeeded">True when the operation may run.</param>
/// <param name="Attempted">The operation state that was requested.</param>
/// <param name="Previous">The state before the attempt (restored on a failed reconfiguration).</param>
/// <param name="Current">The state after the attempt: the operation's state, or unchanged on refusal.</param>
/// <param name="Error">On refusal Consul's text, <c>CA is already in state "&lt;S&gt;"</c>; otherwise null.</param>
public sealed record CaStateTransition(bool Succeeded, CaManagerState Attempted, CaManagerState Previous, CaManagerState Current, string? Error)
{
    /// <summary>
    /// True when an initialisation was refused because the CA is already initialised: Consul treats that as
    /// success (initialisation is idempotent).
    /// </summary>
    public bool AlreadyInitialized
        => !Succeeded && Attempted == CaManagerState.Initializing && Previous == CaManagerState.Initialized;
}

/// <summary>
/// The CA manager state machine (Consul's <c>CAManager.setState</c>): the mutual exclusion between initialisation,
/// reconfiguration, renewal and secondary root updates.
/// </summary>
/// <remarks>
/// <code>
///                 Initializing ──ok──▶ Initialized ◀──ok / renewal always── Renewing
///  Uninitialized ─┤  └─fail─▶ Uninitialized   │  ▲                              ▲
///                 └─ Reconfiguring ◀──────────┘  └──────────────────────────────┘
///                     ok ▶ Initialized, fail ▶ back to where it started
/// </code>
/// Starting an operation is allowed from INITIALIZED to anything but INITIALIZING, and from UNINITIALIZED to
/// INITIALIZING or RECONFIGURING; anything else is refused with <c>CA is already in state "&lt;S&gt;"</c>.
/// Completion is forced (Consul's unvalidated <c>setState</c> in deferred calls) and only ever lands on INITIALIZED or
/// UNINITIALIZED. NOTE: Consul's secondary root update sets INITIALIZED even when it failed from UNINITIALIZED;
/// Meridian returns to the starting state instead, so a failed secondary initialisation is not reported as ready.
/// </remarks>
public static class CaStateMachine
{
    /// <summary>The initial state.</summary>
    public const CaManagerState Initial = CaManagerState.Uninitialized;

    /// <summary>Consul's text of a state: <c>UNINITIALIZED</c>, <c>INITIALIZING</c>, <c>INITIALIZED</c>, <c>RENEWING</c>, <c>RECONFIGURING</c>.</summary>
    public static string WireName(this CaManagerState state) => state switch
    {
        CaManagerState.Uninitialized => "UNINITIALIZED",
        CaManagerState.Initializing => "INITIALIZING",
        CaManagerState.Initialized => "INITIALIZED",
        CaManagerState.Renewing => "RENEWING",
        CaManagerState.Reconfiguring => "RECONFIGURING",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown CA state."),
    };

    /// <summary>True for the states an operation holds while it runs.</summary>
    public static bool IsBusy(this CaManagerState state)
        => state is CaManagerState.Initializing or CaManagerState.Renewing or CaManagerState.Reconfiguring;

    /// <summary>Consul's validated transition rule: INITIALIZED → anything but INITIALIZING; UNINITIALIZED → INITIALIZING or RECONFIGURING.</summary>
    public static bool CanTransition(CaManagerState from, CaManagerState to) => from switch
    {
        CaManagerState.Initialized => to != CaManagerState.Initializing,
        CaManagerState.Uninitialized => to is CaManagerState.Initializing or CaManagerState.Reconfiguring,
        _ => false,
    };

    /// <summary>The refusal text for a transition attempted in <paramref name="current"/>: <c>CA is already in state "INITIALIZING"</c>.</summary>
    public static string AlreadyInStateMessage(CaManagerState current) => $"CA is already in state \"{current.WireName()}\"";

    /// <summary>
    /// Tries to start <paramref name="operation"/> (INITIALIZING, RENEWING or RECONFIGURING) from <paramref name="current"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="operation"/> is not an operation state.</exception>
    public static CaStateTransition TryBegin(CaManagerState current, CaManagerState operation)
    {
        if (!operation.IsBusy())
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "Only INITIALIZING, RENEWING or RECONFIGURING can be started.");
        return CanTransition(current, operation)
            ? new(true, operation, current, operation, null)
            : new(false, operation, current, current, AlreadyInStateMessage(current));
    }

    /// <summary>
    /// The state after a started operation finishes: INITIALIZED on success; on failure UNINITIALIZED after
    /// initialisation, INITIALIZED after renewal (the CA stays usable), and the starting state after reconfiguration.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="begun"/> did not succeed.</exception>
    public static CaManagerState Complete(CaStateTransition begun, bool succeeded)
    {
        ArgumentNullException.ThrowIfNull(begun);
        if (!begun.Succeeded) throw new InvalidOperationException($"The operation never started: {begun.Error}");
        if (succeeded) return CaManagerState.Initialized;
        return begun.Current switch
        {
            CaManagerState.Initializing => CaManagerState.Uninitialized,
            CaManagerState.Renewing => CaManagerState.Initialized,
            _ => begun.Previous,
        };
    }

    /// <summary>The state after leadership is lost or the CA is stopped, forced from any state: UNINITIALIZED.</summary>
    public const CaManagerState AfterStop = CaManagerState.Uninitialized;
}
