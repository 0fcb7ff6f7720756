using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Grains.Catalog;

/// <summary>
/// One service of a datacenter's catalog (key <c>dc/service</c>): every instance with its node copy and the checks that
/// affect it, in memory, so a health read is one call and no storage read. Stored in
/// <see cref="CatalogBuckets.Count"/> buckets by node name (<see cref="ICatalogBucketGrain"/>): a write persists the
/// one bucket holding the instance, read back in parallel when the service activates.
/// </summary>
/// <remarks>
/// NOTE: why buckets and not one state: at 10,000 instances one state would rewrite every instance on every write
/// (and every TTL refresh); one grain per instance would make a health read 10,000 calls. A bucket write is about
/// 1/32 of the service, a read none. The answers are cached and rebuilt after a change or when a TTL deadline passes.
/// </remarks>
public sealed class CatalogServiceGrain(DatacenterContext datacenter, TimeProvider clock, Hosting.SiloStopping stopping) : Grain, ICatalogServiceGrain
{
    private readonly ChangeSignal _changed = new(stopping);
    private readonly Dictionary<string, CatalogInstanceDto> _instances = [];
    private ulong _index;
    private ImmutableArray<string> _tags = [];
    private (ImmutableArray<CheckServiceNodeDto> All, ImmutableArray<CheckServiceNodeDto> Passing, DateTimeOffset? ValidUntil)? _answers;

    private string Key => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var buckets = await Task.WhenAll(Enumerable.Range(0, CatalogBuckets.Count)
            .Select(b => GrainFactory.GetGrain<ICatalogBucketGrain>(CatalogKeys.ServiceBucket(Key, b)).ListAsync()));
        foreach (var (key, instance) in buckets.SelectMany(b => b)) _instances[key] = instance;
        // Indexes are at least the time in milliseconds (CatalogIndex.Next), so starting from now never goes back.
        var stored = _instances.Values.Select(MaxIndex).DefaultIfEmpty(0UL).Max();
        _index = Math.Max(stored, CatalogIndex.Next(0, clock.GetUtcNow()) - 1);
        _tags = TagsNow();
        _wasPresent = _instances.Count > 0;
    }

    /// <inheritdoc />
    public async Task<ulong> UpsertAsync(CatalogInstanceDto instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var key = CatalogKeys.Instance(instance.Node.Node, instance.Service!.ID);
        await BucketOf(instance.Node.Node).SetAsync(key, instance);
        _instances[key] = instance;
        return await ChangedAsync();
    }

    /// <inheritdoc />
    public async Task<ulong> RemoveAsync(string node, string serviceId)
    {
        var key = CatalogKeys.Instance(node, serviceId);
        if (!_instances.ContainsKey(key)) return _index;
        await BucketOf(node).SetAsync(key, null);
        _instances.Remove(key);
        return await ChangedAsync();
    }

    /// <inheritdoc />
    public Task<ServiceHealthDto> GetHealthAsync(bool passingOnly)
    {
        var now = clock.GetUtcNow();
        if (_answers is not { } answers || answers.ValidUntil is { } until && now >= until) _answers = answers = Build(now);
        return Task.FromResult(new ServiceHealthDto
        {
            Index = _index, Datacenter = datacenter.Datacenter, Service = CatalogKeys.NameOf(Key),
            Instances = passingOnly ? answers.Passing : answers.All,
        });
    }

    /// <inheritdoc />
    public async Task<ServiceHealthDto> WaitForChangeAsync(ulong afterIndex, bool passingOnly, TimeSpan maxWait)
    {
        var deadline = clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        // Re-read after every wake-up: the index is the truth, a missed signal only costs one more round.
        while (_index <= afterIndex && !_changed.Stopping && deadline - clock.GetUtcNow() is var left && left > TimeSpan.Zero)
            await _changed.WaitAsync(left, clock, CancellationToken.None);
        return await GetHealthAsync(passingOnly);
    }

    private (ImmutableArray<CheckServiceNodeDto>, ImmutableArray<CheckServiceNodeDto>, DateTimeOffset?) Build(DateTimeOffset now)
    {
        var all = _instances.Values
            .OrderBy(i => i.Node.Node, StringComparer.Ordinal).ThenBy(i => i.Service!.ID, StringComparer.Ordinal)
            .Select(i => new CheckServiceNodeDto
            {
                Node = i.Node, Service = i.Service!,
                Checks = [.. i.NodeChecks.Concat(i.Checks).Select(c => CatalogMapping.AsOf(c, now))],
            }).ToImmutableArray();
        var passing = all.Where(i => HealthFilter.IsPassing(i.Checks.Select(CatalogMapping.StatusOf))).ToImmutableArray();
        var next = CatalogMapping.NextDeadline(_instances.Values.SelectMany(i => i.NodeChecks.Concat(i.Checks)), now);
        return (all, passing, next);
    }

    private async Task<ulong> ChangedAsync()
    {
        _answers = null;
        _index = CatalogIndex.Next(_index, clock.GetUtcNow());
        _changed.Notify();
        var tags = TagsNow();
        var present = _instances.Count > 0;
        if (!tags.SequenceEqual(_tags) || present != _wasPresent)
        {
            await GrainFactory.GetGrain<ICatalogDirectoryGrain>(datacenter.Datacenter)
                .SetServiceAsync(CatalogKeys.NameOf(Key), tags, present);
            (_tags, _wasPresent) = (tags, present);
        }
        return _index;
    }

    private bool _wasPresent = true;

    private ImmutableArray<string> TagsNow() => CatalogIndex.TagUnion(_instances.Values.Select(i => (IEnumerable<string>)i.Service!.Tags));

    private ICatalogBucketGrain BucketOf(string node) =>
        GrainFactory.GetGrain<ICatalogBucketGrain>(CatalogKeys.ServiceBucket(Key, CatalogBuckets.Of(node)));

    private static ulong MaxIndex(CatalogInstanceDto i) => new[] { i.Node.ModifyIndex, i.Service?.ModifyIndex ?? 0 }
        .Concat(i.NodeChecks.Concat(i.Checks).Select(c => c.Check.ModifyIndex)).Max();
}
