using System.Collections.Immutable;
using Meridian.Core.Intentions;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>Persisted state of a datacenter's registry. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.intentions.IntentionRegistryState")]
public sealed class IntentionRegistryState
{
    /// <summary>The datacenter index: bumped on every change, never goes backwards.</summary>
    [Id(0)] public ulong Index { get; set; }

    /// <summary>Keys (<c>partition/namespace/name</c>) of every destination that has an entry.</summary>
    [Id(1)] public HashSet<string> Destinations { get; set; } = [];
}

/// <summary>
/// The intentions of one datacenter; see <see cref="IIntentionRegistryGrain"/>. Holds every entry in memory (loaded
/// from the <see cref="IIntentionGrain"/>s on activation), stamps the datacenter index on each change and keeps a
/// change log (entries by ModifyIndex plus tombstones) so pollers get deltas, not the whole state.
/// </summary>
public sealed partial class IntentionRegistryGrain(
    [PersistentState("registry", MeridianStorage.Name)] IPersistentState<IntentionRegistryState> state,
    DatacenterContext datacenter,
    IntentionCache localCache,
    TimeProvider clock,
    ILogger<IntentionRegistryGrain> logger) : Grain, IIntentionRegistryGrain
{
    // Deletions are remembered so pollers can be told about them; beyond this many the oldest are dropped and
    // pollers older than them get a full snapshot instead (correct, just bigger).
    private const int MaxTombstones = 100_000;

    private readonly ChangeSignal _changed = new();
    private readonly Dictionary<string, ulong> _tombstones = [];
    private DestinationMatchIndex _index = DestinationMatchIndex.Empty;
    private ulong _horizon;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var loaded = await Task.WhenAll(state.State.Destinations.Select(key => EntryGrain(key).GetAsync(cancellationToken)));
        var entries = loaded.OfType<IntentionEntryDto>().Select(e => e.ToCore()).ToList();
        // An entry written just before a crash may carry an index the registry did not persist: never reuse it.
        var index = Math.Max(state.State.Index, entries.Count == 0 ? 0 : entries.Max(e => e.ModifyIndex));
        _index = DestinationMatchIndex.Create(entries, index);
        _horizon = index;
        LogLoaded(logger, datacenter.Datacenter, entries.Count, index);
        localCache.Apply(Snapshot());
    }

    /// <inheritdoc />
    public async Task<IntentionWriteResultDto> UpsertAsync(IntentionDto intention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intention);
        EnsurePrimary();
        var flat = IntentionRules.CreateIntention(WithDefaults(intention.ToCore()));
        var key = DestinationMatchIndex.KeyOf(flat.DestinationNS, flat.DestinationName, flat.DestinationPartition);
        var existing = FindEntry(key);
        var source = new SourceIntention
        {
            Name = flat.SourceName,
            Namespace = flat.SourceNS,
            Partition = flat.SourcePartition,
            SourceDatacenter = flat.SourceDatacenter,
            DestinationDatacenter = flat.DestinationDatacenter,
            Action = flat.Action,
            Permissions = flat.Permissions,
            Type = flat.SourceType,
            Description = flat.Description,
        };
        var sources = existing?.Sources.Where(s => !SameSource(s, source)).ToList() ?? [];
        sources.Add(source);
        var candidate = IntentionRules.CreateEntry(new ServiceIntentionsEntry
        {
            Name = flat.DestinationName,
            Namespace = flat.DestinationNS,
            Partition = flat.DestinationPartition,
            Sources = [.. sources],
            // Meta belongs to the destination's entry (shared by its sources), as for Consul config entries.
            Meta = flat.Meta.Count > 0 ? flat.Meta : existing?.Meta ?? ImmutableDictionary<string, string>.Empty,
        });
        if (existing is not null && IntentionDiff.ContentHash(existing) == IntentionDiff.ContentHash(candidate))
            return new IntentionWriteResultDto(existing.ModifyIndex, datacenter.Datacenter); // idempotent: nothing changed

        var index = _index.Index + 1;
        var entry = candidate with { CreateIndex = existing?.CreateIndex ?? index, ModifyIndex = index };
        await CommitAsync([entry], [], index, cancellationToken);
        LogUpserted(logger, flat.SourceName, flat.DestinationName, index);
        return new IntentionWriteResultDto(index, datacenter.Datacenter);
    }

    /// <inheritdoc />
    public async Task<IntentionWriteResultDto> DeleteAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intention);
        EnsurePrimary();
        var (src, dst) = ParseRef(intention);
        var key = DestinationMatchIndex.KeyOf(dst.Namespace, dst.Name, dst.Partition);
        var existing = FindEntry(key);
        var remaining = existing?.Sources.Where(s => !Matches(s, src, intention)).ToImmutableArray() ?? [];
        if (existing is null || remaining.Length == existing.Sources.Length)
            return new IntentionWriteResultDto(_index.Index, datacenter.Datacenter); // Consul: deleting nothing is a no-op

        var index = _index.Index + 1;
        if (remaining.IsEmpty)
            await CommitAsync([], [key], index, cancellationToken); // the last source takes the entry with it
        else
            await CommitAsync([existing with { Sources = remaining, ModifyIndex = index }], [], index, cancellationToken);
        LogDeleted(logger, src.Name, dst.Name, index);
        return new IntentionWriteResultDto(index, datacenter.Datacenter);
    }

    /// <inheritdoc />
    public Task<IntentionDto> GetAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intention);
        var (src, dst) = ParseRef(intention);
        var entry = FindEntry(DestinationMatchIndex.KeyOf(dst.Namespace, dst.Name, dst.Partition));
        var source = entry?.Sources.FirstOrDefault(s => Matches(s, src, intention))
            ?? throw new MeridianNotFoundException(
                $"Intention not found: {intention.Source} => {intention.Destination}");
        return Task.FromResult(entry!.ToIntention(source).ToDto());
    }

    /// <inheritdoc />
    public Task<IntentionListDto> ListAsync(CancellationToken cancellationToken = default)
    {
        var all = _index.Entries.SelectMany(e => e.ToIntentions()).Order(IntentionPrecedenceComparer.Instance);
        return Task.FromResult(new IntentionListDto(_index.Index, [.. all.Select(i => i.ToDto())]));
    }

    /// <inheritdoc />
    public Task<IntentionMatchDto> MatchAsync(string by, ImmutableArray<string> names, CancellationToken cancellationToken = default)
    {
        var type = IntentionMatcher.ParseMatchType(by);
        var requested = names.IsDefault ? [] : names;
        var selectors = requested.Select(n => ServiceSelector.Parse(n, "name")).ToList();
        // By destination, the index already holds each destination's sorted list (the one the authorizer walks):
        // a lookup per name instead of a scan of every entry. Same result as IntentionMatcher.Match: the same covering
        // entries (own, namespace wildcard, all-wildcard; `*`/name entries are invalid) sorted by the same total order.
        var lists = type == IntentionMatchType.Destination && selectors.Count > 0
            ? [.. selectors.Select(s => _index.ForDestination(s.Namespace, s.Name, s.Partition))]
            : IntentionMatcher.Match(_index.Entries.ToList(), type, selectors);
        var result = requested.Select((name, i) => new IntentionMatchEntryDto(name, [.. lists[i].Select(x => x.ToDto())]));
        return Task.FromResult(new IntentionMatchDto(_index.Index, [.. result]));
    }

    /// <inheritdoc />
    public async Task<IntentionChangesDto> WaitForChangesAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (afterIndex == _index.Index) await _changed.WaitAsync(ChangeSignal.Clamp(maxWait), clock, cancellationToken);
        return ChangesSince(afterIndex);
    }

    private IntentionChangesDto ChangesSince(ulong afterIndex)
    {
        // Older than what this activation remembers, or ahead of us (the poller saw another incarnation): snapshot.
        if (afterIndex < _horizon || afterIndex > _index.Index) return Snapshot();
        return new IntentionChangesDto
        {
            Index = _index.Index,
            Upserts = [.. _index.Entries.Where(e => e.ModifyIndex > afterIndex).Select(e => e.ToDto())],
            DeletedDestinations = [.. _tombstones.Where(t => t.Value > afterIndex).Select(t => t.Key)],
        };
    }

    private IntentionChangesDto Snapshot() => new()
    {
        Index = _index.Index,
        IsSnapshot = true,
        Upserts = [.. _index.Entries.Select(e => e.ToDto())],
    };

    // Durable first (entries, then the index and destination set), then visible: memory, waiters, local cache.
    private async Task CommitAsync(IReadOnlyList<ServiceIntentionsEntry> upserts, IReadOnlyList<string> deletes, ulong index, CancellationToken ct)
    {
        await Task.WhenAll(
            upserts.Select(e => EntryGrain(DestinationMatchIndex.KeyOf(e)).SetAsync(e.ToDto(), ct))
                .Concat(deletes.Select(k => EntryGrain(k).SetAsync(null, ct))));
        state.State.Index = index;
        foreach (var e in upserts) state.State.Destinations.Add(DestinationMatchIndex.KeyOf(e));
        foreach (var k in deletes) state.State.Destinations.Remove(k);
        await state.WriteStateAsync(ct);

        _index = _index.Apply(upserts, deletes, index);
        foreach (var e in upserts) _tombstones.Remove(DestinationMatchIndex.KeyOf(e));
        foreach (var k in deletes) _tombstones[k] = index;
        PruneTombstones();
        _changed.Notify();
        localCache.Apply(new IntentionChangesDto
        {
            Index = index,
            Upserts = [.. upserts.Select(e => e.ToDto())],
            DeletedDestinations = [.. deletes],
        });
    }

    private void PruneTombstones()
    {
        if (_tombstones.Count <= MaxTombstones) return;
        foreach (var (key, idx) in _tombstones.OrderBy(t => t.Value).Take(_tombstones.Count - MaxTombstones).ToList())
        {
            _tombstones.Remove(key);
            _horizon = Math.Max(_horizon, idx);
        }
    }

    private ServiceIntentionsEntry? FindEntry(string key) => _index.Find(key);

    private IIntentionGrain EntryGrain(string key) => GrainFactory.GetGrain<IIntentionGrain>($"{datacenter.Datacenter}/{key}");

    private void EnsurePrimary()
    {
        // TODO(#5): forward to the primary instead of refusing.
        if (!datacenter.IsPrimary)
            throw new NotPrimaryDatacenterException(datacenter.PrimaryDatacenter,
                $"intentions are written in the primary datacenter {datacenter.PrimaryDatacenter}, not in {datacenter.Datacenter}");
    }

    // The HTTP layer of Consul fills empty namespaces from the request; the SDK may leave them empty.
    private static Intention WithDefaults(Intention i) => i with
    {
        SourceNS = string.IsNullOrEmpty(i.SourceNS) ? IntentionConstants.Default : i.SourceNS,
        DestinationNS = string.IsNullOrEmpty(i.DestinationNS) ? IntentionConstants.Default : i.DestinationNS,
    };

    private static (ServiceSelector Source, ServiceSelector Destination) ParseRef(IntentionRefDto r)
        => IntentionRefs.Parse(r.Source, r.Destination);

    private static bool SameSource(SourceIntention a, SourceIntention b)
        => a.Name == b.Name && OrDefault(a.Namespace) == OrDefault(b.Namespace) && OrDefault(a.Partition) == OrDefault(b.Partition)
           && a.SourceDatacenter == b.SourceDatacenter && a.DestinationDatacenter == b.DestinationDatacenter;

    private static bool Matches(SourceIntention s, ServiceSelector src, IntentionRefDto r)
        => s.Name == src.Name && OrDefault(s.Namespace) == src.Namespace && OrDefault(s.Partition) == src.Partition
           && s.SourceDatacenter == (r.SourceDatacenter ?? "") && s.DestinationDatacenter == (r.DestinationDatacenter ?? "");

    private static string OrDefault(string? value) => string.IsNullOrEmpty(value) ? IntentionConstants.Default : value;

    [LoggerMessage(EventId = MeridianEventIds.IntentionRegistryLoaded, Level = LogLevel.Information,
        Message = "Loaded {Count} intention entries for {Datacenter} at index {Index}")]
    private static partial void LogLoaded(ILogger logger, string datacenter, int count, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.IntentionUpserted, Level = LogLevel.Debug,
        Message = "Upserted intention {Source} => {Destination} at index {Index}")]
    private static partial void LogUpserted(ILogger logger, string source, string destination, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.IntentionDeleted, Level = LogLevel.Debug,
        Message = "Deleted intention {Source} => {Destination} at index {Index}")]
    private static partial void LogDeleted(ILogger logger, string source, string destination, ulong index);
}
