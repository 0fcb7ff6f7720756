using System.Collections.Immutable;
using Meridian.Core.Federation;
using Meridian.Core.Identity;
using Meridian.Core.Replication;
using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Meridian.Grains.Datacenters;

/// <summary>Persisted state of a datacenter registry. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.datacenters.DatacenterRegistryState")]
public sealed class DatacenterRegistryState : IReplicatedRegistryState
{
    /// <inheritdoc />
    [Id(0)] public ulong Index { get; set; }

    /// <inheritdoc />
    [Id(1)] public string Epoch { get; set; } = "";

    /// <inheritdoc />
    [Id(2)] public ulong ReplicatedIndex { get; set; }

    /// <inheritdoc />
    [Id(3)] public string ReplicatedEpoch { get; set; } = "";

    /// <inheritdoc />
    [Id(4)] public ReplicationHoldDto? Hold { get; set; }

    /// <summary>Every known datacenter (a handful: kept in this one state).</summary>
    [Id(5)] public List<DatacenterEntryDto> Entries { get; set; } = [];

    /// <inheritdoc />
    [Id(6)] public bool ReplicatedFiltered { get; set; }
}

/// <summary>
/// The federation's datacenters; see <see cref="IDatacenterRegistryGrain"/>. The list is small (one entry per
/// datacenter), so it lives in this grain's own state; the epoch, commit pipeline, change feed and replicated apply
/// are the shared <see cref="ReplicatedRegistry{TEntry, TKey}"/>, as for intentions and ACLs.
/// </summary>
public sealed partial class DatacenterRegistryGrain(
    [PersistentState("datacenters", MeridianStorage.Name)] IPersistentState<DatacenterRegistryState> state,
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    IDatacenterDistances distances,
    SiloStopping stopping,
    TimeProvider clock,
    ILogger<DatacenterRegistryGrain> logger) : Grain, IDatacenterRegistryGrain, IReplicaStore<DatacenterEntryDto>
{
    /// <summary>How the shared registry machinery reads datacenter entries.</summary>
    internal static readonly ReplicatedEntryType<DatacenterEntryDto, string> EntryType = new(
        ReplicatedTypes.Datacenters,
        new ReplicaShape<DatacenterEntryDto, string>(e => e.Name, StringComparer.Ordinal, ContentHash, e => e.ModifyIndex),
        e => e.Name, e => e.Name, e => e.CreateIndex, (e, created, modified) => e with { CreateIndex = created, ModifyIndex = modified });

    private ReplicatedRegistry<DatacenterEntryDto, string> _registry = null!;
    private ImmutableSortedDictionary<string, DatacenterEntryDto> _entries = ImmutableSortedDictionary<string, DatacenterEntryDto>.Empty.WithComparers(StringComparer.Ordinal);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var e in state.State.Entries) _entries = _entries.SetItem(e.Name, e);
        _registry = new(EntryType, this, datacenter, stopping, clock, logger);
        await _registry.ActivateAsync(_entries.IsEmpty ? 0 : _entries.Values.Max(e => e.ModifyIndex), cancellationToken);
        LogLoaded(logger, datacenter.Datacenter, _entries.Count, _registry.Index);
    }

    /// <inheritdoc />
    public async Task<ulong> RegisterAsync(DatacenterEntryDto entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var problems = new List<Core.Validation.ValidationProblem>();
        if (DatacenterName.Check("Name", entry.Name) is { } bad) problems.Add(bad);
        var gateways = entry.Gateways.IsDefault ? [] : entry.Gateways;
        foreach (var g in gateways)
            if (string.IsNullOrWhiteSpace(g) || g.LastIndexOf(':') is var colon && (colon <= 0 || !ushort.TryParse(g[(colon + 1)..], out _)))
                problems.Add(new("Gateways", Core.Validation.ValidationCodes.InvalidFormat, $"\"{g}\" is not HOST:PORT (the gateway endpoint other datacenters connect to)"));
        if (problems.Count > 0) throw new Core.Validation.DomainValidationException(problems);
        if (!datacenter.IsPrimary)
            return await (await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), cancellationToken))
                .GetGrain<IDatacenterRegistryGrain>(datacenter.PrimaryDatacenter).RegisterAsync(entry, cancellationToken);
        var candidate = entry with { Gateways = gateways, CreateIndex = 0, ModifyIndex = 0 };
        _entries.TryGetValue(entry.Name, out var existing);
        if (existing is not null && ContentHash(existing) == ContentHash(candidate)) return _registry.Index; // idempotent
        var index = _registry.Index + 1;
        await _registry.CommitAsync([candidate with { CreateIndex = existing?.CreateIndex ?? index, ModifyIndex = index }], [], index, cancellationToken);
        LogRegistered(logger, entry.Name, string.Join(",", gateways), index);
        return index;
    }

    /// <inheritdoc />
    public Task<ImmutableArray<DatacenterEntryDto>> ListAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(_entries.Values.ToImmutableArray());

    /// <inheritdoc />
    public Task<DatacenterListDto> GetDatacentersAsync(CancellationToken cancellationToken = default)
    {
        var ranked = distances.Ranked();
        var names = ranked.Select(d => d.Datacenter).ToHashSet(StringComparer.Ordinal);
        // Registered but not yet seen by the links (or the other way round): listed all the same, unmeasured.
        var all = ranked.Concat(_entries.Keys.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).Select(n => new Core.Discovery.DatacenterDistance(n, null)));
        return Task.FromResult(new DatacenterListDto
        {
            AnsweredBy = datacenter.Datacenter,
            Datacenters = [.. all.Select(d => (Distance: d, Entry: _entries.GetValueOrDefault(d.Datacenter))).Select(d => new DatacenterInfoDto
            {
                Name = d.Distance.Datacenter,
                Primary = d.Distance.Datacenter == datacenter.PrimaryDatacenter,
                Local = d.Distance.Datacenter == datacenter.Datacenter,
                Reachable = distances.IsReachable(d.Distance.Datacenter),
                Rtt = d.Distance.Rtt,
                WanAddress = d.Entry?.WanAddress ?? "",
                Gateways = d.Entry?.Gateways ?? [],
                ClusterId = d.Entry?.ClusterId ?? "",
            })],
        });
    }

    /// <inheritdoc />
    public async Task<DatacenterChangesDto> WaitForChangesAsync(ulong afterIndex, string afterEpoch, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var position = new ReplicationPosition(afterIndex, afterEpoch ?? "");
        if (_registry.IsUpToDate(position)) await _registry.WaitForChangeAsync(maxWait, cancellationToken);
        var changes = _registry.Since(position);
        if (changes.IsSnapshot)
            return new DatacenterChangesDto { Index = _registry.Index, Epoch = _registry.Epoch, IsSnapshot = true, Entries = [.. _entries.Values] };
        var (upserts, deletes) = changes.Resolve(k => _entries.GetValueOrDefault(k));
        return new DatacenterChangesDto { Index = _registry.Index, Epoch = _registry.Epoch, Entries = [.. upserts], DeletedNames = [.. deletes] };
    }

    /// <inheritdoc />
    public Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(new ReplicationProgressDto { Index = state.State.ReplicatedIndex, Epoch = state.State.ReplicatedEpoch, Held = state.State.Hold });

    /// <inheritdoc />
    // NOTE: adopt is always true: every datacenter registers itself again (DatacenterRegistrar), so a rebuilt primary's
    // list refills on its own and there is nothing here an operator would need to protect by holding a round.
    public Task<ReplicationApplyResultDto> ApplyReplicatedAsync(DatacenterChangesDto changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return _registry.ApplyAsync(new ReplicatedAnswer<DatacenterEntryDto>(new(changes.Index, changes.Epoch), changes.IsSnapshot, false,
            changes.Entries, changes.DeletedNames), adopt: true, cancellationToken);
    }

    private static string ContentHash(DatacenterEntryDto e)
        => $"{e.Name}|{string.Join(",", e.Gateways.IsDefault ? [] : e.Gateways)}|{e.WanAddress}|{e.ClusterId}";

    IReplicatedRegistryState IReplicaStore<DatacenterEntryDto>.State => state.State;

    Task IReplicaStore<DatacenterEntryDto>.WriteStateAsync(CancellationToken cancellationToken) => state.WriteStateAsync(cancellationToken);

    DatacenterEntryDto? IReplicaStore<DatacenterEntryDto>.Find(string key) => _entries.GetValueOrDefault(key);

    IReadOnlyList<DatacenterEntryDto> IReplicaStore<DatacenterEntryDto>.Entries() => [.. _entries.Values];

    int IReplicaStore<DatacenterEntryDto>.Count => _entries.Count;

    // Durable: the whole (small) list in this grain's state, with the index.
    async Task IReplicaStore<DatacenterEntryDto>.WriteAsync(IReadOnlyList<DatacenterEntryDto> upserts, IReadOnlyList<string> upsertKeys,
        IReadOnlyList<string> deletes, CancellationToken cancellationToken)
    {
        var next = _entries.SetItems(upserts.Select(e => KeyValuePair.Create(e.Name, e))).RemoveRange(deletes);
        state.State.Entries = [.. next.Values];
        state.State.Index = Math.Max(state.State.Index, upserts.Count == 0 ? 0 : upserts.Max(e => e.ModifyIndex));
        await state.WriteStateAsync(cancellationToken);
    }

    void IReplicaStore<DatacenterEntryDto>.Publish(IReadOnlyList<DatacenterEntryDto> upserts, IReadOnlyList<string> deletes, ulong index)
        => _entries = _entries.SetItems(upserts.Select(e => KeyValuePair.Create(e.Name, e))).RemoveRange(deletes);

    [LoggerMessage(EventId = MeridianEventIds.DatacenterRegistryLoaded, Level = LogLevel.Debug,
        Message = "Loaded {Count} datacenters for {Datacenter} at index {Index}")]
    private static partial void LogLoaded(ILogger logger, string datacenter, int count, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.DatacenterRegistered, Level = LogLevel.Information,
        Message = "Datacenter {Name} registered (gateways {Gateways}) at index {Index}")]
    private static partial void LogRegistered(ILogger logger, string name, string gateways, ulong index);
}

/// <summary>Answers RTT pings on the gateway silo the caller is connected to; see <see cref="IDatacenterPingGrain"/>.</summary>
[StatelessWorker]
public sealed class DatacenterPingGrain(DatacenterContext datacenter) : Grain, IDatacenterPingGrain
{
    /// <inheritdoc />
    public Task<string> PingAsync() => Task.FromResult(datacenter.Datacenter);
}
