using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Federation;
using Meridian.Core.Intentions;
using Meridian.Core.Replication;
using Meridian.Core.Validation;
using Meridian.Grains.Acl;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>Persisted state of a datacenter's registry. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.intentions.IntentionRegistryState")]
public sealed class IntentionRegistryState : IReplicatedRegistryState
{
    /// <summary>The datacenter index: bumped on every change, never goes backwards.</summary>
    [Id(0)] public ulong Index { get; set; }

    /// <summary>In a secondary: the primary's index applied by replication (0 = never synced).</summary>
    [Id(2)] public ulong ReplicatedIndex { get; set; }

    /// <summary>
    /// This store's incarnation (a Guid, "N" format), created the first time the registry activates without one: a
    /// wiped and rebuilt store counts its index from 0 again under a new epoch, so pollers notice even at an equal index.
    /// </summary>
    [Id(3)] public string Epoch { get; set; } = "";

    /// <summary>In a secondary: the primary's epoch that <see cref="ReplicatedIndex"/> belongs to ("" = not known yet).</summary>
    [Id(4)] public string ReplicatedEpoch { get; set; } = "";

    /// <summary>In a secondary: the round held back for the operator (null: following the primary).</summary>
    [Id(5)] public ReplicationHoldDto? Hold { get; set; }

    /// <summary>In a secondary: the answer applied last was filtered by the primary's ACLs (see <c>FilteredRound</c>).</summary>
    [Id(6)] public bool ReplicatedFiltered { get; set; }
}

/// <summary>
/// The intentions of one datacenter; see <see cref="IIntentionRegistryGrain"/>. Holds every entry in memory (loaded
/// from the <see cref="IIntentionCatalogGrain"/> buckets and <see cref="IIntentionGrain"/>s on activation), stamps the
/// datacenter index on each change and keeps a change log (which keys each index touched) so pollers get deltas
/// in time proportional to what changed, not to the number of entries. The epoch, the commit pipeline, the change
/// feed and the apply of replicated rounds are the shared <see cref="ReplicatedRegistry{TEntry, TKey}"/>; this grain
/// keeps how intentions are stored (entry grains and catalog buckets) and indexed (<see cref="DestinationMatchIndex"/>).
/// </summary>
/// <remarks>
/// Durability per change: the entries (each carries its ModifyIndex), then the catalog buckets whose membership
/// changed, then this grain's small state only when a delete happened, replication advanced or the hold changed. The
/// index survives a restart as max(persisted index, entries' ModifyIndex): an upsert of an existing destination is a
/// single row write.
/// </remarks>
public sealed partial class IntentionRegistryGrain(
    [PersistentState("registry", MeridianStorage.Name)] IPersistentState<IntentionRegistryState> state,
    DatacenterContext datacenter,
    IntentionCache localCache,
    Hosting.IPrimaryDatacenterLink link,
    Hosting.SiloStopping stopping,
    RegistryScans scans,
    TimeProvider clock,
    ILogger<IntentionRegistryGrain> logger) : Grain, IIntentionRegistryGrain, IReplicaStore<ServiceIntentionsEntry>
{
    /// <summary>How the shared registry machinery reads intention entries.</summary>
    internal static readonly ReplicatedEntryType<ServiceIntentionsEntry, (string Partition, string Namespace, string Name)> EntryType = new(
        ReplicatedTypes.Intentions, IntentionDiff.Shape, DestinationMatchIndex.KeyOf, e => $"{e.Namespace}/{e.Name}",
        e => e.CreateIndex, (e, created, modified) => e with { CreateIndex = created, ModifyIndex = modified });

    private DestinationMatchIndex _index = DestinationMatchIndex.Empty;
    // Epoch, commit pipeline, change feed and replication apply; created on activation.
    private ReplicatedRegistry<ServiceIntentionsEntry, (string Partition, string Namespace, string Name)> _registry = null!;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var buckets = await Task.WhenAll(Enumerable.Range(0, IntentionCatalogGrain.BucketCount)
            .Select(b => CatalogBucket(b).ListAsync()));
        var loaded = await Task.WhenAll(buckets.SelectMany(b => b).Select(key => EntryGrain(key).GetAsync(cancellationToken)));
        var entries = loaded.OfType<IntentionEntryDto>().Select(e => e.ToCore()).ToList();
        _registry = new(EntryType, this, datacenter, stopping, clock, logger);
        // An entry written just before a crash may carry an index the registry did not persist: never reused.
        if (await _registry.ActivateAsync(entries.Count == 0 ? 0 : entries.Max(e => e.ModifyIndex), cancellationToken))
            LogNewEpoch(logger, datacenter.Datacenter, _registry.Epoch, _registry.Index);
        var index = _registry.Index;
        _index = DestinationMatchIndex.Create(entries, index);
        LogLoaded(logger, datacenter.Datacenter, entries.Count, index);
        localCache.Apply(Snapshot());
    }

    /// <inheritdoc />
    public async Task<IntentionWriteResultDto> UpsertAsync(IntentionDto intention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intention);
        if (!datacenter.IsPrimary) return await (await PrimaryRegistryAsync(cancellationToken)).UpsertAsync(intention, cancellationToken);
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
        var stored = existing?.Sources.Where(s => !SameSource(s, source)).ToList() ?? [];
        var keepMeta = flat.Meta.Count == 0 && existing is not null;
        // The new source was checked above; what the entry already holds may predate a rule (names, control
        // characters) and must not make the destination unwritable.
        var candidate = IntentionRules.CreateEntry(new ServiceIntentionsEntry
        {
            Name = flat.DestinationName,
            Namespace = flat.DestinationNS,
            Partition = flat.DestinationPartition,
            Sources = [.. stored, source],
            // Meta belongs to the destination's entry (shared by its sources), as for Consul config entries.
            Meta = keepMeta ? existing!.Meta : flat.Meta,
        }, stored, storedMeta: keepMeta);
        if (existing is not null && IntentionDiff.ContentHash(existing) == IntentionDiff.ContentHash(candidate))
            return new IntentionWriteResultDto(existing.ModifyIndex, datacenter.Datacenter); // idempotent: nothing changed

        var index = _index.Index + 1;
        var entry = candidate with { CreateIndex = existing?.CreateIndex ?? index, ModifyIndex = index };
        await _registry.CommitAsync([entry], [], index, cancellationToken);
        LogUpserted(logger, flat.SourceName, flat.DestinationName, index);
        return new IntentionWriteResultDto(index, datacenter.Datacenter);
    }

    /// <inheritdoc />
    public async Task<IntentionWriteResultDto> DeleteAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intention);
        if (!datacenter.IsPrimary) return await (await PrimaryRegistryAsync(cancellationToken)).DeleteAsync(intention, cancellationToken);
        var (src, dst) = ParseRef(intention);
        var key = DestinationMatchIndex.KeyOf(dst.Namespace, dst.Name, dst.Partition);
        var existing = FindEntry(key);
        var remaining = existing?.Sources.Where(s => !Matches(s, src, intention)).ToImmutableArray() ?? [];
        if (existing is null || remaining.Length == existing.Sources.Length)
            return new IntentionWriteResultDto(_index.Index, datacenter.Datacenter); // Consul: deleting nothing is a no-op

        var index = _index.Index + 1;
        if (remaining.IsEmpty)
            await _registry.CommitAsync([], [key], index, cancellationToken); // the last source takes the entry with it
        else
            await _registry.CommitAsync([existing with { Sources = remaining, ModifyIndex = index }], [], index, cancellationToken);
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
    public Task<IntentionSummaryDto> GetSummaryAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(new IntentionSummaryDto(_index.Index, _index.Entries.Sum(e => e.Sources.Length)));

    /// <inheritdoc />
    public Task<IntentionListDto> ListAsync(CancellationToken cancellationToken = default)
    {
        // Interleaved, off the activation: the index is immutable, so the scan reads the one captured here while
        // writes replace _index. (NOTE: ListAsync is [AlwaysInterleave] on the interface for this.)
        var index = _index;
        var caller = AclCallContext.Current;
        return scans.RunAsync("List", () => ListOf(index, caller));
    }

    // Consul's intention list filter (agent/consul/intention_endpoint.go, Intention.List): an intention is listed
    // when the caller may read intentions of its source or of its destination.
    private static IntentionListDto ListOf(DestinationMatchIndex index, AclCaller? caller)
    {
        var all = index.Entries.SelectMany(e => e.ToIntentions());
        var visible = caller is null ? all : all.Where(i =>
            caller.Authorizer.IntentionRead(i.SourceName).Allowed || caller.Authorizer.IntentionRead(i.DestinationName).Allowed);
        var list = visible.Order(IntentionPrecedenceComparer.Instance).Select(i => i.ToDto()).ToImmutableArray();
        var filtered = caller is not null && caller.AccessorId != AclBuiltins.AnonymousTokenAccessorId
            && list.Length < index.Entries.Sum(e => e.Sources.Length);
        return new IntentionListDto(index.Index, list, filtered);
    }

    /// <inheritdoc />
    public Task<IntentionListDto> GetState() => ListAsync();

    /// <inheritdoc />
    public Task<IntentionMatchDto> MatchAsync(string by, ImmutableArray<string> names, CancellationToken cancellationToken = default)
    {
        var type = IntentionMatcher.ParseMatchType(by);
        var requested = names.IsDefault ? [] : names;
        if (InputLimits.CheckCount("name", requested.Length, InputLimits.MaxNamesPerRequest) is { } tooMany)
            throw new DomainValidationException([tooMany]);
        var selectors = IntentionRefs.ParseAll(requested, "name");
        var index = _index;
        return scans.RunAsync("Match", () => Match(index, type, requested, selectors));
    }

    private static IntentionMatchDto Match(DestinationMatchIndex index, IntentionMatchType type, ImmutableArray<string> requested,
        IReadOnlyList<ServiceSelector> selectors)
    {
        // By destination, the index already holds each destination's sorted list (the one the authorizer walks):
        // a lookup per name instead of a scan of every entry. Same result as IntentionMatcher.Match: the same covering
        // entries (own, namespace wildcard, all-wildcard; `*`/name entries are invalid) sorted by the same total order.
        var lists = type == IntentionMatchType.Destination && selectors.Count > 0
            ? [.. selectors.Select(s => index.ForDestination(s.Namespace, s.Name, s.Partition))]
            : IntentionMatcher.Match(index.Entries.ToList(), type, selectors);
        var result = requested.Select((name, i) => new IntentionMatchEntryDto(name, [.. lists[i].Select(x => x.ToDto())]));
        return new IntentionMatchDto(index.Index, [.. result]);
    }

    /// <inheritdoc />
    public Task<IntentionChangesDto> WaitForChangesAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => WaitForChangesAsync(new IntentionPositionDto(afterIndex, ""), maxWait, cancellationToken);

    /// <inheritdoc />
    public async Task<IntentionChangesDto> WaitForChangesAsync(IntentionPositionDto after, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(after);
        // Another epoch answers at once; a caller at our index waits for the next change; any other position gets a
        // delta or a snapshot (the change feed says which).
        var position = new ReplicationPosition(after.Index, after.Epoch);
        var caller = AclCallContext.Current;
        if (_registry.IsUpToDate(position)) await _registry.WaitForChangeAsync(maxWait, cancellationToken);
        var changes = _registry.Since(position);
        var answer = changes.IsSnapshot ? await SnapshotAsync() : Delta(changes);
        return caller is null ? answer : Readable(answer, caller.Authorizer);
    }

    // The feed a token may read: Consul's replication token needs intention:read on every destination
    // (service_prefix "" { intentions = "read" }); with less, the destinations it may not read are left out, upserts and
    // deletions alike, and the answer says so, so that a secondary does not take a partial snapshot for the whole.
    private static IntentionChangesDto Readable(IntentionChangesDto changes, AclAuthorizer authorizer)
    {
        var upserts = changes.Upserts.Where(e => authorizer.IntentionRead(e.Name).Allowed).ToImmutableArray();
        var deleted = changes.DeletedDestinations.Where(k => authorizer.IntentionRead(AclMethodTable.NameOf(k)).Allowed).ToImmutableArray();
        return upserts.Length == changes.Upserts.Length && deleted.Length == changes.DeletedDestinations.Length
            ? changes
            : changes with { Upserts = upserts, DeletedDestinations = deleted, FilteredByAcls = true };
    }

    // A snapshot converts every entry: built off the activation, from the index and epoch captured here.
    private Task<IntentionChangesDto> SnapshotAsync()
    {
        var (index, epoch) = (_index, _registry.Epoch);
        return scans.RunAsync("Snapshot", () => SnapshotOf(index, epoch));
    }

    private IntentionChangesDto Delta(FeedChanges changes)
    {
        var (upserts, deletes) = changes.Resolve(_index.Find);
        return new IntentionChangesDto
        {
            Index = _index.Index, Epoch = _registry.Epoch, Upserts = [.. upserts.Select(e => e.ToDto())], DeletedDestinations = [.. deletes],
        };
    }

    private IntentionChangesDto Snapshot() => SnapshotOf(_index, _registry.Epoch);

    private static IntentionChangesDto SnapshotOf(DestinationMatchIndex index, string epoch) => new()
    {
        Index = index.Index,
        Epoch = epoch,
        IsSnapshot = true,
        Upserts = [.. index.Entries.Select(e => e.ToDto())],
    };

    IReplicatedRegistryState IReplicaStore<ServiceIntentionsEntry>.State => state.State;

    Task IReplicaStore<ServiceIntentionsEntry>.WriteStateAsync(CancellationToken cancellationToken) => state.WriteStateAsync(cancellationToken);

    ServiceIntentionsEntry? IReplicaStore<ServiceIntentionsEntry>.Find(string key) => _index.Find(key);

    IReadOnlyList<ServiceIntentionsEntry> IReplicaStore<ServiceIntentionsEntry>.Entries() => [.. _index.Entries];

    int IReplicaStore<ServiceIntentionsEntry>.Count => _index.EntryCount;

    // Durable: each entry's grain, then the catalog buckets whose membership changed.
    async Task IReplicaStore<ServiceIntentionsEntry>.WriteAsync(IReadOnlyList<ServiceIntentionsEntry> upserts, IReadOnlyList<string> upsertKeys,
        IReadOnlyList<string> deletes, CancellationToken ct)
    {
        await Task.WhenAll(
            upserts.Select((e, i) => EntryGrain(upsertKeys[i]).SetAsync(e.ToDto(), ct))
                .Concat(deletes.Select(k => EntryGrain(k).SetAsync(null, ct))));
        var added = upsertKeys.Where(k => _index.Find(k) is null).ToList();
        await Task.WhenAll(added.Select(k => (Key: k, Added: true)).Concat(deletes.Select(k => (Key: k, Added: false)))
            .GroupBy(c => IntentionCatalogGrain.BucketOf(c.Key))
            .Select(g => CatalogBucket(g.Key).UpdateAsync(
                [.. g.Where(c => c.Added).Select(c => c.Key)], [.. g.Where(c => !c.Added).Select(c => c.Key)])));
    }

    // Visible: the match index (what reads use) and this silo's cache.
    void IReplicaStore<ServiceIntentionsEntry>.Publish(IReadOnlyList<ServiceIntentionsEntry> upserts, IReadOnlyList<string> deletes, ulong index)
    {
        _index = _index.Apply(upserts, deletes, index);
        localCache.Apply(new IntentionChangesDto
        {
            Index = index,
            Epoch = _registry.Epoch,
            Upserts = [.. upserts.Select(e => e.ToDto())],
            DeletedDestinations = [.. deletes],
        });
    }

    private IIntentionCatalogGrain CatalogBucket(int bucket) => GrainFactory.GetGrain<IIntentionCatalogGrain>($"{datacenter.Datacenter}/{bucket:D2}");

    private ServiceIntentionsEntry? FindEntry(string key) => _index.Find(key);

    private IIntentionGrain EntryGrain(string key) => GrainFactory.GetGrain<IIntentionGrain>($"{datacenter.Datacenter}/{key}");

    // The HTTP layer of Consul fills empty namespaces from the request; the SDK may leave them empty.
    private static Intention WithDefaults(Intention i) => i with
    {
        SourceNS = string.IsNullOrEmpty(i.SourceNS) ? IntentionConstants.Default : i.SourceNS,
        DestinationNS = string.IsNullOrEmpty(i.DestinationNS) ? IntentionConstants.Default : i.DestinationNS,
    };

    // Get and delete address what is stored: no name rule here, so an intention written before the rule was
    // enforced can still be read and deleted.
    private static (ServiceSelector Source, ServiceSelector Destination) ParseRef(IntentionRefDto r)
        => IntentionRefs.Parse(r.Source, r.Destination, existing: true);

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

    [LoggerMessage(EventId = MeridianEventIds.IntentionRegistryNewEpoch, Level = LogLevel.Information,
        Message = "Started intention epoch {Epoch} for {Datacenter} at index {Index} (no epoch in its store: new or wiped)")]
    private static partial void LogNewEpoch(ILogger logger, string datacenter, string epoch, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.IntentionUpserted, Level = LogLevel.Debug,
        Message = "Upserted intention {Source} => {Destination} at index {Index}")]
    private static partial void LogUpserted(ILogger logger, string source, string destination, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.IntentionDeleted, Level = LogLevel.Debug,
        Message = "Deleted intention {Source} => {Destination} at index {Index}")]
    private static partial void LogDeleted(ILogger logger, string source, string destination, ulong index);
}
