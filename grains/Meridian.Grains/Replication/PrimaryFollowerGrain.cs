using Meridian.Core.Replication;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>
/// The loop shared by everything a secondary pulls from the primary (intentions, CA roots; ACLs later). One activation
/// per secondary (the grain key), kept alive by a reminder (it comes back after a silo restart) and driven by a timer
/// whose callback is one round, usually a long-poll on the primary that wakes at once on a change. Failures back off
/// 1 s, 2 s, … 120 s with jitter; the status object (Consul's `/v1/acl/replication` fields) carries the last error's text. When the host starts to
/// stop, the round in flight is cancelled and the loop ends quietly (see <see cref="RoundAsync"/>).
/// Before the first round on a connection (so also after every failure and reconnection) the loop asks the datacenter it
/// reached whether it is the primary it was configured with; a role mismatch (SPEC §5 item 1, Consul #6847: the primary
/// gateways lead to another secondary, or to a cluster serving another datacenter) fails the round before anything is
/// read or applied, and the status says what the remote claims to be.
/// </summary>
public abstract partial class PrimaryFollowerGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger logger) : Grain, IRemindable
{
    private IGrainTimer? _timer;
    private int _failures;
    private ReplicationStatusDto _statusValue = new();
    private Diagnostics.MeridianInstruments? _instruments;

    // Every change of the status is published to the replication gauges (read at a scrape, never by calling this grain).
    private ReplicationStatusDto _status
    {
        get => _statusValue;
        set
        {
            _statusValue = value;
            _instruments?.SetReplication(datacenter.Datacenter, ReplicationType, value);
        }
    }
    // The link connection on which the remote last confirmed it is our primary; null: check before the next round.
    private CancellationToken? _roleConfirmedOn;
    private Acl.AclReplicationToken? _replicationToken;
    private bool _aclEnabled;
    private string? _filtered;

    /// <summary>What is replicated, for status and logs: <c>intentions</c>, <c>ca-roots</c>.</summary>
    protected abstract string ReplicationType { get; }

    /// <summary>The datacenter this silo serves.</summary>
    protected DatacenterContext Datacenter => datacenter;

    /// <summary>Replication settings.</summary>
    protected ReplicationSettings Settings => settings;

    /// <summary>The link to the primary.</summary>
    protected IPrimaryDatacenterLink Link => link;

    /// <summary>
    /// One round against the primary. Calls <see cref="RecordPrimaryIndex"/> with the primary's answer before applying
    /// it; returns the primary's index it reached and how many changes it applied.
    /// </summary>
    protected abstract Task<(ulong Index, int Changes)> FollowAsync(IGrainFactory primary, CancellationToken cancellationToken);

    /// <summary>
    /// The epoch of the primary's store that the index reached by the last round counts in, for the status; empty when
    /// what is followed has no epochs.
    /// </summary>
    protected virtual string FollowedEpoch => "";

    /// <summary>
    /// Sends the replication token (as it is now) on the calls made until the scope ends: every round does, and so must
    /// any other call to the primary on replication's behalf (an operator's adopt).
    /// </summary>
    protected CallerToken.Scope UseReplicationToken() => CallerToken.Use(_replicationToken?.Current);

    /// <summary>Whether this loop runs in a secondary at all (ACL replication: only with ACLs on).</summary>
    protected virtual bool Follows => true;

    /// <summary>After a failed round (re-read the applied position, report degradation, …).</summary>
    protected virtual Task OnRoundFailedAsync(string reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _replicationToken = ServiceProvider.GetService(typeof(Acl.AclReplicationToken)) as Acl.AclReplicationToken;
        _aclEnabled = ServiceProvider.GetService(typeof(Acl.AclSettings)) is Acl.AclSettings { Enabled: true };
        _instruments = ServiceProvider.GetService(typeof(Diagnostics.MeridianInstruments)) as Diagnostics.MeridianInstruments;
        _status = new ReplicationStatusDto
        {
            Enabled = !datacenter.IsPrimary && Follows, SourceDatacenter = datacenter.PrimaryDatacenter, ReplicationType = ReplicationType,
            LastSuccess = DateTimeOffset.MinValue, LastError = DateTimeOffset.MinValue,
        };
        if (!datacenter.IsPrimary && Follows) StartTimer();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _instruments?.SetReplication(datacenter.Datacenter, ReplicationType, null); // its next activation reports it
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Starts the loop if it is not running (idempotent); a primary has nothing to follow.</summary>
    public async Task EnsureRunningAsync(CancellationToken cancellationToken = default)
    {
        if (datacenter.IsPrimary || !Follows) return;
        // The reminder re-activates this grain (and so its loop) after a restart of the silo that hosted it.
        await this.RegisterOrUpdateReminder("keep-alive", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartTimer();
    }

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Follows) StartTimer();
        return Task.CompletedTask;
    }

    /// <summary>The loop's status.</summary>
    public Task<ReplicationStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(_status with
        {
            Running = _timer is not null,
            LastSuccessAge = _status.LastSuccess == DateTimeOffset.MinValue ? null : clock.GetUtcNow() - _status.LastSuccess,
        });

    /// <summary>The loop's status, for the Orleans dashboard's Grain Details.</summary>
    public Task<ReplicationStatusDto> GetState() => GetStatusAsync();

    /// <summary>
    /// Records the primary's index from a poll's answer, before it is applied: the lag stays real when the apply then
    /// fails (a refused first sync lags by the primary's whole index, not 0).
    /// </summary>
    protected void RecordPrimaryIndex(ulong primaryIndex) => _status = WithLag(_status with { PrimaryIndex = primaryIndex });

    /// <summary>
    /// Records the round held back for the operator (null: none). A held round is neither a success nor a failure: the
    /// status shows the hold as its last error (so <c>meridian status</c> and /health say why), without a back-off.
    /// </summary>
    protected void RecordHold(ReplicationHoldDto? held)
        => _status = held is null ? _status with { Held = null }
            : _status with { Held = held, LastError = clock.GetUtcNow(), LastErrorMessage = held.Message };

    /// <summary>
    /// Records that the last applied answer was filtered by the primary's ACLs (null: it was whole). What the token
    /// may read is applied, but the round does not count as a success: status shows the message as its last error
    /// (degraded in <c>meridian status</c>), naming the permission the replication token lacks.
    /// </summary>
    protected void RecordFiltered(string? message) => _filtered = message;

    /// <summary>
    /// Records, on activation, a failure the replicator's persisted progress still stands for (a filtered answer
    /// applied before the restart): the status shows it as the last error until a round says otherwise.
    /// </summary>
    protected void RecordResumedError(string message)
    {
        _filtered = message;
        _status = _status with { LastError = clock.GetUtcNow(), LastErrorMessage = message };
    }

    /// <summary>Records a round (or an adoption) that applied <paramref name="changes"/> and reached <paramref name="index"/>.</summary>
    protected void RecordRoundSucceeded(ulong index, int changes)
        => _status = WithLag(_status with
        {
            ReplicatedIndex = index, LastSuccess = clock.GetUtcNow(), LastRoundChanges = changes, PrimaryEpoch = FollowedEpoch,
        });

    /// <summary>Records the primary's index already applied before any round of this activation (resumed from storage).</summary>
    protected void RecordReplicatedIndex(ulong replicatedIndex) => _status = WithLag(_status with { ReplicatedIndex = replicatedIndex });

    // A primary rebuilt with a lower index (another epoch) can be "behind" what was applied: no lag to report then,
    // the epoch change and the full sync that follows are logged by the replicator.
    private static ReplicationStatusDto WithLag(ReplicationStatusDto s)
        => s with { Lag = s.PrimaryIndex > s.ReplicatedIndex ? s.PrimaryIndex - s.ReplicatedIndex : 0 };

    /// <summary>
    /// Runs a long-poll on the primary bounded by <paramref name="pollWait"/> plus margins and by the link: a primary
    /// killed mid-poll never answers, and the reply of a poll in flight dies with a dropped connection.
    /// </summary>
    protected async Task<T> PollPrimaryAsync<T>(Func<CancellationToken, Task<T>> poll, TimeSpan pollWait, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(pollWait + settings.ConnectWait + TimeSpan.FromSeconds(5), clock);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, link.ConnectionLost);
        return await poll(deadline.Token);
    }

    private void StartTimer()
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested) return; // a reminder tick while the silo stops
        _timer ??= this.RegisterGrainTimer(RoundAsync, new GrainTimerCreationOptions
        {
            // The next round starts right after the previous one finishes (the long-poll paces the loop).
            DueTime = TimeSpan.Zero, Period = TimeSpan.FromMilliseconds(1), KeepAlive = true, Interleave = true,
        });
    }

    // NOTE: Orleans deactivates a grain only once its running requests have finished, and a timer callback is one;
    // the timer's own token is cancelled only after that. A long-poll in flight (up to PollWait, 5 minutes) therefore
    // held every secondary's stop for the whole stop timeout (measured: 8 s per silo in `meridian dev`, then the
    // reminder service's stop was cancelled and the round failed on the closed link with warnings). So the round also
    // ends on ApplicationStopping, which fires before the silo and the link to the primary stop: the cancellation
    // reaches the primary's long-poll too, and the timer is disposed so that no further round starts.
    private async Task RoundAsync(CancellationToken timerToken)
    {
        var stopping = lifetime.ApplicationStopping;
        using var round = CancellationTokenSource.CreateLinkedTokenSource(timerToken, stopping);
        try
        {
            if (!stopping.IsCancellationRequested) await FollowOnceAsync(round.Token);
        }
        catch (Exception e) when (round.IsCancellationRequested)
        {
            // Cancelled by the stop (or by the timer's disposal), whatever the exception says (an OperationCanceled-
            // Exception, or a call that failed because the local host or the link is closing): not a failed round.
            LogRoundEnded(logger, ReplicationType, datacenter.PrimaryDatacenter, e.GetType().Name);
        }
        if (stopping.IsCancellationRequested && _timer is { } timer)
        {
            _timer = null;
            timer.Dispose();
        }
    }

    private async Task FollowOnceAsync(CancellationToken ct)
    {
        var connection = link.ConnectionLost; // cancelled if the connection this round uses is lost
        // Every call of the round to the primary (the role check, the feed or watch, signing, progress) carries the
        // replication token, read afresh each round so a replaced token takes effect without a restart (Consul's
        // acl.tokens.replication). Local calls carry it too, unchecked: only calls from gateway clients are.
        var tokenChanged = _replicationToken?.Changed; // a new token ends a back-off (captured before the round uses the old one)
        if (_aclEnabled && _replicationToken is { Current: null } && tokenChanged is not null)
        {
            await WaitForReplicationTokenAsync(tokenChanged, ct);
            return;
        }
        using var token = UseReplicationToken();
        try
        {
            var primary = await link.GetPrimaryAsync(settings.ConnectWait, ct);
            if (_roleConfirmedOn != connection)
            {
                await CheckPrimaryRoleAsync(primary, ct);
                _roleConfirmedOn = connection;
            }
            var (index, changes) = await FollowAsync(primary, ct);
            _failures = 0;
            // PrimaryIndex stays what the primary answered this round (RecordPrimaryIndex).
            if (_status.Held is { } held)
                _status = WithLag(_status with { ReplicatedIndex = index, LastError = clock.GetUtcNow(), LastErrorMessage = held.Message });
            else if (_filtered is { } filtered)
                // Applied, but not complete (FilteredRound): not a success, so status and /health show why.
                _status = WithLag(_status with
                {
                    ReplicatedIndex = index, LastRoundChanges = changes, PrimaryEpoch = FollowedEpoch,
                    LastError = clock.GetUtcNow(), LastErrorMessage = filtered,
                });
            else
                RecordRoundSucceeded(index, changes);
        }
        catch (Exception) when (!ct.IsCancellationRequested && connection.IsCancellationRequested && link.IsConnected)
        {
            // The link ended the calls in flight because one gateway of the primary was lost while others still serve
            // (a silo of the primary killed or restarted): not a failed round, the next one starts at once through them.
            _roleConfirmedOn = null;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // A round that failed because the link was down or dropped is retried as soon as the link is back, not
            // after the back-off; other failures (a refusal, a bug) wait the full back-off.
            var retryOnReconnect = connection.IsCancellationRequested || !link.IsConnected;
            _failures++;
            _roleConfirmedOn = null;
            var reason = e switch
            {
                MeridianValidationException v => string.Join("; ", v.Problems),
                // The primary refused the replication token: say which setting to fix, with its refusal (which names
                // the permission and the token's AccessorID, never the secret).
                MeridianPermissionDeniedException denied =>
                    $"{datacenter.PrimaryDatacenter} refused the replication token (Meridian:Acl:Tokens:Replication" +
                    $"{(_replicationToken?.Current is null ? ", not set: the anonymous token was used" : "")}): {denied.Message}; nothing was changed here",
                OperationCanceledException => $"the primary datacenter {datacenter.PrimaryDatacenter} is unreachable (no answer to the long-poll)",
                _ => e.Message,
            };
            _status = _status with { LastError = clock.GetUtcNow(), LastErrorMessage = reason };
            await OnRoundFailedAsync(reason, ct);
            var delay = Backoff.Delay(_failures, Random.Shared.NextDouble());
            LogRoundFailed(logger, ReplicationType, datacenter.PrimaryDatacenter, _failures, delay, reason);
            // Cancelled during the back-off: RoundAsync ends the round.
            var backoff = Task.Delay(delay, clock, ct);
            var retryEarly = retryOnReconnect ? link.Connected.WaitAsync(ct) : null;
            if (tokenChanged is not null) retryEarly = retryEarly is null ? tokenChanged.WaitAsync(ct) : Task.WhenAny(retryEarly, tokenChanged.WaitAsync(ct));
            await (retryEarly is null ? backoff : Task.WhenAny(backoff, retryEarly));
            ct.ThrowIfCancellationRequested();
        }
    }

    // ACLs on and no replication token yet (`meridian dev --acl` before its bootstrap, or a secondary configured before
    // the primary's token exists): every call would be refused as the anonymous token's, one logged refusal per round.
    // Consul skips such rounds silently (its status looks idle); here the loop asks nothing of the primary, logs once,
    // and its status says what to set, until the token is set (a configuration reload) and the next round uses it.
    private async Task WaitForReplicationTokenAsync(Task tokenChanged, CancellationToken ct)
    {
        var message = $"waiting for a replication token: ACLs are on in {datacenter.Datacenter} and Meridian:Acl:Tokens:Replication is not set, " +
            $"so nothing is asked of {datacenter.PrimaryDatacenter} (create one there with `meridian acl token create --replication`)";
        if (_status.LastErrorMessage != message)
        {
            _status = _status with { LastError = clock.GetUtcNow(), LastErrorMessage = message };
            LogWaitingForToken(logger, ReplicationType, datacenter.Datacenter);
        }
        await tokenChanged.WaitAsync(ct);
    }

    /// <summary>
    /// SPEC §5 item 1: the datacenter reached through the primary gateways must say it is our primary. A cluster that
    /// serves another datacenter refuses the call with <see cref="MeridianNotFoundException"/> naming what it serves.
    /// </summary>
    private async Task CheckPrimaryRoleAsync(IGrainFactory primary, CancellationToken ct)
    {
        var expected = datacenter.PrimaryDatacenter;
        var configured = $"role mismatch: {datacenter.Datacenter} is configured with primary {expected}, but";
        DatacenterStatusDto view;
        try
        {
            // Bounded like a poll without its wait: connect wait plus margin, and by the connection.
            view = await PollPrimaryAsync(t => primary.GetGrain<IDatacenterGrain>(expected).GetStatusAsync(t), TimeSpan.Zero, ct);
        }
        catch (MeridianNotFoundException e)
        {
            throw new MeridianException($"{configured} the cluster its primary gateways lead to does not serve {expected} ({e.Message}); nothing was replicated");
        }
        if (view.Role != "primary" || view.Datacenter != expected || view.PrimaryDatacenter != expected)
            throw new MeridianException(
                $"{configured} the cluster its primary gateways lead to says it is {view.Datacenter} with role {view.Role} " +
                $"(primary {view.PrimaryDatacenter}); nothing was replicated");
    }

    [LoggerMessage(EventId = MeridianEventIds.ReplicationRoundFailed, Level = LogLevel.Warning,
        Message = "Replication of {ReplicationType} from {Primary} failed (attempt {Attempt}), retrying in {Delay}: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string replicationType, string primary, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationWaitingForToken, Level = LogLevel.Information,
        Message = "Replication of {ReplicationType} into {Datacenter} waits for a replication token (Meridian:Acl:Tokens:Replication is not set; ACLs are on)")]
    private static partial void LogWaitingForToken(ILogger logger, string replicationType, string datacenter);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationRoundEnded, Level = LogLevel.Debug,
        Message = "Replication of {ReplicationType} from {Primary}: round ended by the stop ({Exception})")]
    private static partial void LogRoundEnded(ILogger logger, string replicationType, string primary, string exception);
}
