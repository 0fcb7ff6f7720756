using System.Collections.Concurrent;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Which root each service certificate of the datacenter chains to (key: datacenter), for rotation progress. Kept in
/// memory: certificates are re-issued after a restart anyway, and report again when they are.
/// </summary>
public sealed class CertificateInventoryGrain(Diagnostics.MeridianInstruments instruments) : Grain, ICertificateInventoryGrain
{
    private readonly Dictionary<string, string> _rootByService = [];
    // Certificates per root, kept with _rootByService, for the rotation metrics (a handful of roots: copied per batch).
    private readonly Dictionary<string, int> _countByRoot = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task RecordAsync(IReadOnlyDictionary<string, string> rootByService)
    {
        ArgumentNullException.ThrowIfNull(rootByService);
        foreach (var (service, root) in rootByService)
        {
            if (_rootByService.TryGetValue(service, out var old) && --_countByRoot[old] == 0) _countByRoot.Remove(old);
            _rootByService[service] = root;
            _countByRoot[root] = _countByRoot.GetValueOrDefault(root) + 1;
        }
        instruments.SetInventory(this.GetPrimaryKeyString(), new Dictionary<string, int>(_countByRoot, StringComparer.Ordinal));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        instruments.SetInventory(this.GetPrimaryKeyString(), null); // the next activation, maybe in another silo, reports it
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<RotationProgressDto> GetProgressAsync(CancellationToken cancellationToken = default)
        => Progress(await ActiveRootAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<CertificateInventoryDto> GetState()
    {
        var active = await ActiveRootAsync(default);
        return new CertificateInventoryDto
        {
            Progress = Progress(active),
            Certificates = [.. _rootByService.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new CertificateInventoryEntryDto
            {
                Service = p.Key,
                RootID = p.Value,
                OnActiveRoot = p.Value == active,
            })],
        };
    }

    private async Task<string> ActiveRootAsync(CancellationToken cancellationToken)
        => (await GrainFactory.GetGrain<ICertificateAuthorityGrain>(this.GetPrimaryKeyString()).GetStatusAsync(cancellationToken)).ActiveRootID;

    private RotationProgressDto Progress(string activeRootId) => new()
    {
        Datacenter = this.GetPrimaryKeyString(),
        ActiveRootID = activeRootId,
        OnActiveRoot = _rootByService.Values.Count(r => r == activeRootId),
        Total = _rootByService.Count,
    };
}

/// <summary>
/// The service-certificate activations living in this silo, so a root change can ask each of them to re-issue
/// (spread over the jitter window) without any cluster-wide scan.
/// </summary>
public sealed class CertificateActivations
{
    private readonly ConcurrentDictionary<string, byte> _keys = new();

    /// <summary>Registers an activation.</summary>
    public void Add(string key) => _keys.TryAdd(key, 0);

    /// <summary>Unregisters an activation.</summary>
    public void Remove(string key) => _keys.TryRemove(key, out _);

    /// <summary>True when <paramref name="key"/> has an activation in this silo.</summary>
    public bool Contains(string key) => _keys.ContainsKey(key);

    /// <summary>The keys of the activations now in this silo.</summary>
    public IReadOnlyList<string> Snapshot() => [.. _keys.Keys];
}

/// <summary>
/// Collects which root each certificate issued in this silo chains to and sends the changes to the datacenter's
/// <see cref="ICertificateInventoryGrain"/> in one call per batch window (100 ms), so issuing a certificate costs no
/// extra grain call. The inventory may lag by the window; that only delays rotation progress (and so root pruning,
/// which also waits 2 x leaf TTL), never makes it early: a certificate is counted only once its report arrives, and
/// certificate grains never serve a certificate of a rotated-out root.
/// </summary>
public sealed class CertificateInventoryReporter(
    IGrainFactory grains, DatacenterContext datacenter, TimeProvider clock, ILogger<CertificateInventoryReporter> logger)
    : SiloLoop(clock, logger)
{
    /// <summary>How long changes are collected before they are sent.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private Dictionary<string, string> _pending = [];
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    protected override string Name => "certificate-inventory";

    /// <summary>Notes that <paramref name="service"/>'s current certificate chains to <paramref name="rootId"/>.</summary>
    public void Record(string service, string rootId)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _pending[service] = rootId;
            signal = _signal;
        }
        signal.TrySetResult();
    }

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock) signal = _signal.Task;
        await signal.WaitAsync(cancellationToken);
        await Task.Delay(Window, Clock, cancellationToken);
        Dictionary<string, string> batch;
        lock (_lock)
        {
            batch = _pending;
            _pending = [];
            _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            await grains.GetGrain<ICertificateInventoryGrain>(datacenter.Datacenter).RecordAsync(batch);
        }
        catch
        {
            // Put the batch back under anything newer recorded meanwhile; the loop backs off and sends it again.
            lock (_lock)
            {
                foreach (var (service, root) in batch) _pending.TryAdd(service, root);
                _signal.TrySetResult();
            }
            throw;
        }
    }
}
