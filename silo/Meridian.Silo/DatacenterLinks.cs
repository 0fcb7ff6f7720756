using System.Collections.Concurrent;
using System.Collections.Immutable;
using Meridian.Core.Discovery;
using Meridian.Grains;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Silo;

/// <summary>
/// The silo's links to every other datacenter (<see cref="IDatacenterLinks"/>) and their measured distances
/// (<see cref="IDatacenterDistances"/>). One <see cref="PrimaryLink"/> per remote datacenter (the same background
/// connect, fail-fast, reconnect and transport TLS, with the server name of that datacenter), opened on demand from
/// the gateways the datacenter registered (<see cref="IDatacenterRegistryGrain"/>), closed after
/// <see cref="WanOptions.IdleTimeout"/> without a caller. In a secondary the link to the primary is the one
/// replication uses, from <c>Meridian:Primary:Gateways</c>, never closed. Every <see cref="WanOptions.PingInterval"/>
/// each link is pinged (<see cref="IDatacenterPingGrain"/>, answered on the gateway silo) and the RTT smoothed by
/// <see cref="RttWindow"/>; a link that is not connected, or whose ping failed, counts as +∞.
/// </summary>
internal sealed partial class DatacenterLinks : IDatacenterLinks, IDatacenterDistances, IHostedService, IAsyncDisposable
{
    private readonly DatacenterContext _datacenter;
    private readonly IServiceProvider _services;
    private readonly PrimaryLink? _primary;
    private readonly Func<DatacenterEntryDto, PrimaryLink> _open;
    private readonly WanOptions _wan;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RttWindow> _rtt = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile ImmutableDictionary<string, DatacenterEntryDto> _known = ImmutableDictionary<string, DatacenterEntryDto>.Empty;
    private Task _loop = Task.CompletedTask;
    private int _stopped;

    public DatacenterLinks(DatacenterContext datacenter, IServiceProvider services, PrimaryLink? primary,
        Func<DatacenterEntryDto, PrimaryLink> open, WanOptions wan, TimeProvider clock, ILogger<DatacenterLinks> logger)
        => (_datacenter, _services, _primary, _open, _wan, _clock, _logger) = (datacenter, services, primary, open, wan, clock, logger);

    // The silo's own grain factory, resolved when first needed (it is built with the silo, after this service).
    private IGrainFactory Local => _services.GetRequiredService<IGrainFactory>();

    /// <inheritdoc />
    public async Task<IGrainFactory> GetAsync(string datacenter, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (datacenter == _datacenter.Datacenter) return Local;
        if (_primary is not null && datacenter == _datacenter.PrimaryDatacenter) return await _primary.GetPrimaryAsync(wait, cancellationToken);
        if (!_known.ContainsKey(datacenter)) await RefreshAsync(cancellationToken);
        if (!_known.TryGetValue(datacenter, out var entry)) throw new UnknownDatacenterException(datacenter);
        var link = LinkTo(entry);
        link.LastUsed = _clock.GetUtcNow();
        return await link.Client.GetPrimaryAsync(wait, cancellationToken);
    }

    /// <inheritdoc />
    public ImmutableArray<DatacenterDistance> Ranked()
    {
        var measured = new Dictionary<string, IReadOnlyList<TimeSpan>>(StringComparer.Ordinal);
        foreach (var name in KnownNames())
            measured[name] = IsReachable(name) && _rtt.TryGetValue(name, out var w) && w.Smoothed is { } rtt ? [rtt] : [];
        return DatacenterRanking.Rank(_datacenter.Datacenter, measured);
    }

    /// <inheritdoc />
    public bool IsReachable(string datacenter)
    {
        if (datacenter == _datacenter.Datacenter) return true;
        if (_primary is not null && datacenter == _datacenter.PrimaryDatacenter) return _primary.IsConnected;
        return _links.TryGetValue(datacenter, out var link) && link.Client.IsConnected;
    }

    private IEnumerable<string> KnownNames()
    {
        var names = new HashSet<string>(_known.Keys, StringComparer.Ordinal) { _datacenter.PrimaryDatacenter };
        names.Remove(_datacenter.Datacenter);
        return names;
    }

    // One link per datacenter; replaced when the datacenter registered other gateways or another ClusterId.
    private Link LinkTo(DatacenterEntryDto entry)
    {
        while (true)
        {
            if (_links.TryGetValue(entry.Name, out var existing))
            {
                if (existing.Matches(entry)) return existing;
                if (_links.TryRemove(new(entry.Name, existing))) _ = CloseAsync(existing, "its registration changed");
                continue;
            }
            var link = new Link(entry, _open(entry)) { LastUsed = _clock.GetUtcNow() };
            if (!_links.TryAdd(entry.Name, link))
            {
                _ = link.Client.DisposeAsync().AsTask();
                continue;
            }
            _ = link.Client.StartAsync(_stop.Token); // connects in the background, retrying
            LogOpened(_logger, entry.Name, string.Join(",", entry.Gateways));
            return link;
        }
    }

    private async Task CloseAsync(Link link, string why)
    {
        _rtt.TryRemove(link.Entry.Name, out _);
        LogClosed(_logger, link.Entry.Name, why);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await link.Client.StopAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is being dropped anyway.
        }
        await link.Client.DisposeAsync();
    }

    // Reads this datacenter's copy of the list (replicated from the primary, persisted).
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var entries = await Local.GetGrain<IDatacenterRegistryGrain>(_datacenter.Datacenter).ListAsync(cancellationToken);
            _known = entries.Where(e => e.Name != _datacenter.Datacenter).ToImmutableDictionary(e => e.Name, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRefreshFailed(_logger, e.Message);
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        // The silo's grains answer once the host has started (the silo starts with it).
        var started = _services.GetService<IHostApplicationLifetime>()?.ApplicationStarted ?? CancellationToken.None;
        if (!started.IsCancellationRequested)
        {
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (started.Register(() => ready.TrySetResult()))
                await ready.Task.WaitAsync(ct);
        }
        var interval = _wan.PingInterval > TimeSpan.Zero ? _wan.PingInterval : TimeSpan.FromSeconds(5);
        while (!ct.IsCancellationRequested)
        {
            await RefreshAsync(ct);
            if (_wan.PingInterval > TimeSpan.Zero) await Task.WhenAll(KnownNames().Select(name => PingOrForgetAsync(name, ct)));
            CloseIdle();
            await Task.Delay(interval, _clock, ct);
        }
    }

    private async Task PingOrForgetAsync(string name, CancellationToken ct)
    {
        try
        {
            await PingAsync(name, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // A registration whose gateway does not resolve, a link that failed to open: unreachable, +∞.
            _rtt.TryRemove(name, out _);
            LogPingFailed(_logger, name, e.Message);
        }
    }

    // One round trip to the datacenter's gateway silo; a link not connected (or a failed ping) forgets the samples, so
    // the datacenter ranks +∞ until it answers again.
    private async Task PingAsync(string name, CancellationToken ct)
    {
        PrimaryLink client;
        if (_primary is not null && name == _datacenter.PrimaryDatacenter) client = _primary;
        else if (_known.TryGetValue(name, out var entry))
        {
            var link = LinkTo(entry);
            link.LastUsed = _clock.GetUtcNow(); // with pings on, every known datacenter keeps its link (see WanOptions.IdleTimeout)
            client = link.Client;
        }
        else return;
        if (!client.IsConnected)
        {
            _rtt.TryRemove(name, out _);
            return;
        }
        try
        {
            var grains = await client.GetPrimaryAsync(TimeSpan.Zero, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_wan.PingInterval * 2);
            var start = _clock.GetTimestamp();
            await grains.GetGrain<IDatacenterPingGrain>(0).PingAsync().WaitAsync(timeout.Token);
            var rtt = _clock.GetElapsedTime(start);
            _rtt.AddOrUpdate(name, _ => RttWindow.Empty.Add(rtt), (_, w) => w.Add(rtt));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _rtt.TryRemove(name, out _);
            LogPingFailed(_logger, name, e.Message);
        }
    }

    private void CloseIdle()
    {
        var now = _clock.GetUtcNow();
        foreach (var (name, link) in _links)
            if (now - link.LastUsed > _wan.IdleTimeout && _links.TryRemove(new(name, link)))
                _ = CloseAsync(link, $"idle for {_wan.IdleTimeout}");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The loop calls the silo's own grains: it ends when the host begins to stop, not after, so no call reaches a
        // silo that is leaving its cluster (Orleans warns about directory requests for a silo no longer a member).
        _services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() =>
        {
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        });
        _loop = Task.Run(async () =>
        {
            try { await LoopAsync(_stop.Token); }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _stop.CancelAsync();
        await _loop;
        await Task.WhenAll(_links.Values.Select(l => CloseAsync(l, "the silo is stopping")));
        _links.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _stopped, 1);
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Link(DatacenterEntryDto entry, PrimaryLink client)
    {
        public DatacenterEntryDto Entry { get; } = entry;

        public PrimaryLink Client { get; } = client;

        public DateTimeOffset LastUsed { get; set; }

        public bool Matches(DatacenterEntryDto other)
            => other.ClusterId == Entry.ClusterId && other.Gateways.SequenceEqual(Entry.Gateways);
    }

    [LoggerMessage(EventId = MeridianEventIds.DatacenterLinkOpened, Level = LogLevel.Information,
        Message = "Opening a link to datacenter {Datacenter} through {Gateways}")]
    private static partial void LogOpened(ILogger logger, string datacenter, string gateways);

    [LoggerMessage(EventId = MeridianEventIds.DatacenterLinkClosed, Level = LogLevel.Information,
        Message = "Closed the link to datacenter {Datacenter}: {Why}")]
    private static partial void LogClosed(ILogger logger, string datacenter, string why);

    [LoggerMessage(EventId = MeridianEventIds.DatacenterPingFailed, Level = LogLevel.Debug,
        Message = "Ping of datacenter {Datacenter} failed: {Reason}")]
    private static partial void LogPingFailed(ILogger logger, string datacenter, string reason);

    [LoggerMessage(EventId = MeridianEventIds.DatacenterListRefreshFailed, Level = LogLevel.Warning,
        Message = "Reading the datacenter list failed: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
