using System.Collections.Immutable;
using Meridian.Core.Discovery;
using Meridian.Core.Validation;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Catalog;

/// <summary>Persisted state of one catalog node. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.catalog.NodeState")]
public sealed class CatalogNodeState
{
    /// <summary>The node; null when not registered.</summary>
    [Id(0)] public CatalogNodeDto? Node { get; set; }

    /// <summary>The node's own checks (they affect every instance on the node).</summary>
    [Id(1)] public List<StoredCheckDto> Checks { get; set; } = [];

    /// <summary>The service instances on the node, by service ID.</summary>
    [Id(2)] public Dictionary<string, NodeServiceDto> Services { get; set; } = [];

    /// <summary>The checks of each service instance, by service ID.</summary>
    [Id(3)] public Dictionary<string, List<StoredCheckDto>> ServiceChecks { get; set; } = [];

    /// <summary>The last index this node's writes used.</summary>
    [Id(4)] public ulong Index { get; set; }
}

/// <summary>
/// One node of a datacenter's catalog (key <c>dc/node</c>): the single writer of the node, its checks and its service
/// instances (validate, load, Core rules, persist, then push copies to the services on the node and to the directory).
/// A write persists this node only.
/// </summary>
/// <remarks>
/// NOTE: the node's state is the source of truth; each service's grain and the directory hold copies, pushed after
/// the node's write is durable. A push that fails (a silo lost between the two) leaves the copy behind until the next
/// write to the node, which pushes everything it changed again; the caller sees the failure and retries.
/// </remarks>
public sealed partial class CatalogNodeGrain(
    [PersistentState("node", MeridianStorage.Name)] IPersistentState<CatalogNodeState> state,
    DatacenterContext datacenter, TimeProvider clock, ILogger<CatalogNodeGrain> logger) : Grain, ICatalogNodeGrain
{
    private IGrainTimer? _ttlTimer;

    private string NodeName => CatalogKeys.NameOf(this.GetPrimaryKeyString());

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ScheduleTtl();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<ulong> RegisterAsync(CatalogRegisterRequestDto request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = state.State;
        CatalogMapping.Validate(request, s.Services.Keys.ToHashSet());
        var now = clock.GetUtcNow();
        var index = s.Index = CatalogIndex.Next(s.Index, now);
        var touched = new HashSet<string>();
        var nodeChanged = false;

        if (s.Node is null || !request.SkipNodeUpdate)
        {
            var node = new CatalogNodeDto
            {
                ID = request.ID, Node = NodeName, Address = request.Address,
                Datacenter = string.IsNullOrEmpty(request.Datacenter) ? datacenter.Datacenter : request.Datacenter,
                TaggedAddresses = request.TaggedAddresses ?? ImmutableDictionary<string, string>.Empty,
                Meta = request.NodeMeta ?? ImmutableDictionary<string, string>.Empty,
            };
            if (s.Node is null || !SameNode(s.Node, node))
            {
                s.Node = node with { CreateIndex = s.Node?.CreateIndex ?? index, ModifyIndex = index };
                nodeChanged = true;
            }
        }

        string? renamedFrom = null;
        if (request.Service is { } service)
        {
            var id = CatalogMapping.IdOf(service);
            s.Services.TryGetValue(id, out var old);
            if (old is not null && old.Service != service.Service) renamedFrom = old.Service;
            s.Services[id] = service with
            {
                ID = id, Tags = service.Tags.IsDefault ? [] : service.Tags,
                TaggedAddresses = service.TaggedAddresses ?? ImmutableDictionary<string, ServiceAddressDto>.Empty,
                Meta = service.Meta ?? ImmutableDictionary<string, string>.Empty,
                CreateIndex = old is not null && renamedFrom is null ? old.CreateIndex : index, ModifyIndex = index,
            };
            if (!s.ServiceChecks.ContainsKey(id)) s.ServiceChecks[id] = [];
            if (renamedFrom is not null) s.ServiceChecks[id].Clear();
            touched.Add(id);
        }

        var checksChanged = false;
        foreach (var check in CatalogMapping.ChecksOf(request))
        {
            var id = CatalogMapping.IdOf(check);
            var previous = RemoveCheck(id, touched);
            var serviceName = "";
            ImmutableArray<string> tags = [];
            if (!string.IsNullOrEmpty(check.ServiceID) && s.Services.TryGetValue(check.ServiceID, out var owner))
                (serviceName, tags) = (owner.Service, owner.Tags);
            var ttl = CatalogMapping.TtlOf(check, "Check", []);
            var stored = new StoredCheckDto
            {
                Check = check with
                {
                    Node = NodeName, CheckID = id, Name = string.IsNullOrEmpty(check.Name) ? id : check.Name,
                    Status = HealthStatuses.Text(HealthStatuses.Parse(check.Status)), ServiceName = serviceName, ServiceTags = tags,
                    Type = CatalogMapping.TypeOf(check), Definition = check.Definition ?? new(),
                    CreateIndex = previous?.Check.CreateIndex ?? index, ModifyIndex = index,
                },
                Ttl = ttl, Refreshed = now,
            };
            if (string.IsNullOrEmpty(check.ServiceID))
            {
                s.Checks.Add(stored);
                nodeChanged = true;
            }
            else
            {
                s.ServiceChecks[check.ServiceID].Add(stored);
                touched.Add(check.ServiceID);
            }
            checksChanged |= previous is null;
        }

        await state.WriteStateAsync();
        LogRegistered(logger, NodeName, request.Service?.Service ?? "", index);
        if (renamedFrom is not null)
            await ServiceGrain(renamedFrom).RemoveAsync(NodeName, CatalogMapping.IdOf(request.Service!));
        await PushAsync(nodeChanged ? s.Services.Keys : touched);
        if (nodeChanged || checksChanged || request.Service is not null) await PushDirectoryAsync();
        ScheduleTtl();
        return index;
    }

    /// <inheritdoc />
    public async Task<ulong> DeregisterAsync(CatalogDeregisterRequestDto request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = state.State;
        var index = CatalogIndex.Next(s.Index, clock.GetUtcNow());
        if (!string.IsNullOrEmpty(request.ServiceID))
        {
            if (!s.Services.Remove(request.ServiceID, out var removed))
                throw new DomainValidationException([CatalogValidation.UnknownService(request.ServiceID)]);
            s.ServiceChecks.Remove(request.ServiceID);
            s.Index = index;
            await state.WriteStateAsync();
            await ServiceGrain(removed.Service).RemoveAsync(NodeName, removed.ID);
            await PushDirectoryAsync();
        }
        else if (!string.IsNullOrEmpty(request.CheckID))
        {
            var touched = new HashSet<string>();
            if (RemoveCheck(request.CheckID, touched) is null)
                throw new DomainValidationException([CatalogValidation.UnknownCheck(request.CheckID)]);
            s.Index = index;
            await state.WriteStateAsync();
            await PushAsync(touched.Count == 0 ? s.Services.Keys : touched);
            await PushDirectoryAsync();
        }
        else
        {
            if (s.Node is null && s.Services.Count == 0) return s.Index;
            var services = s.Services.Values.ToList();
            await state.ClearStateAsync();
            state.State.Index = index;
            foreach (var service in services) await ServiceGrain(service.Service).RemoveAsync(NodeName, service.ID);
            await Directory.SetNodeAsync(NodeName, null);
        }
        LogDeregistered(logger, NodeName, request.ServiceID, request.CheckID, index);
        ScheduleTtl();
        return index;
    }

    /// <inheritdoc />
    public async Task<HealthCheckDto> UpdateCheckAsync(CheckUpdateDto update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var status = HealthStatuses.Parse(update.Status);
        var s = state.State;
        var (list, position) = Find(update.CheckID);
        if (list is null) throw new DomainValidationException([CatalogValidation.UnknownCheck(update.CheckID)]);
        var now = clock.GetUtcNow();
        var index = s.Index = CatalogIndex.Next(s.Index, now);
        var stored = list[position];
        list[position] = stored with
        {
            Check = stored.Check with { Status = HealthStatuses.Text(status), Output = update.Output, ModifyIndex = index },
            Refreshed = now,
        };
        await state.WriteStateAsync();
        await PushAsync(string.IsNullOrEmpty(stored.Check.ServiceID) ? s.Services.Keys : [stored.Check.ServiceID]);
        ScheduleTtl();
        return list[position].Check;
    }

    /// <inheritdoc />
    public Task<CatalogInstanceDto?> GetState() => Task.FromResult(state.State.Node is null ? null : DirectoryEntry());

    // Persists TTL expiries so the node's and its services' indexes move (answers are right without it: they apply
    // the TTL rule at read time, also after a restart or a reactivation that this timer did not see).
    private void ScheduleTtl()
    {
        _ttlTimer?.Dispose();
        _ttlTimer = null;
        var now = clock.GetUtcNow();
        var all = state.State.Checks.Concat(state.State.ServiceChecks.Values.SelectMany(c => c)).ToList();
        var due = all.Any(c => NeedsExpiry(c, now)) ? now : CatalogMapping.NextDeadline(all, now);
        if (due is not { } at) return;
        var wait = at - now;
        _ttlTimer = this.RegisterGrainTimer(ExpireAsync, new GrainTimerCreationOptions
        {
            DueTime = wait < TimeSpan.Zero ? TimeSpan.Zero : wait + TimeSpan.FromMilliseconds(1), Period = Timeout.InfiniteTimeSpan,
        });
    }

    private static bool NeedsExpiry(StoredCheckDto c, DateTimeOffset now) =>
        TtlRule.IsExpired(c.Ttl, c.Refreshed, now) && c.Check.Output != TtlRule.ExpiredOutput;

    private async Task ExpireAsync(CancellationToken cancellationToken)
    {
        var s = state.State;
        var now = clock.GetUtcNow();
        var touched = new HashSet<string>();
        var nodeTouched = false;
        ulong index = 0;
        foreach (var list in s.ServiceChecks.Values.Prepend(s.Checks))
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (!NeedsExpiry(list[i], now)) continue;
                if (index == 0) index = s.Index = CatalogIndex.Next(s.Index, now);
                list[i] = list[i] with { Check = CatalogMapping.AsOf(list[i], now) with { ModifyIndex = index } };
                LogTtlExpired(logger, NodeName, list[i].Check.CheckID);
                if (string.IsNullOrEmpty(list[i].Check.ServiceID)) nodeTouched = true;
                else touched.Add(list[i].Check.ServiceID);
            }
        }
        if (index != 0)
        {
            await state.WriteStateAsync(cancellationToken);
            await PushAsync(nodeTouched ? s.Services.Keys : touched);
        }
        ScheduleTtl();
    }

    private (List<StoredCheckDto>? List, int Position) Find(string checkId)
    {
        var i = state.State.Checks.FindIndex(c => c.Check.CheckID == checkId);
        if (i >= 0) return (state.State.Checks, i);
        foreach (var list in state.State.ServiceChecks.Values)
        {
            i = list.FindIndex(c => c.Check.CheckID == checkId);
            if (i >= 0) return (list, i);
        }
        return (null, -1);
    }

    // Check IDs are unique on a node (Consul): a re-registered ID replaces the check wherever it was.
    private StoredCheckDto? RemoveCheck(string checkId, HashSet<string> touched)
    {
        var (list, i) = Find(checkId);
        if (list is null) return null;
        var removed = list[i];
        list.RemoveAt(i);
        if (!string.IsNullOrEmpty(removed.Check.ServiceID)) touched.Add(removed.Check.ServiceID);
        return removed;
    }

    private static bool SameNode(CatalogNodeDto a, CatalogNodeDto b) =>
        a.ID == b.ID && a.Address == b.Address && a.Datacenter == b.Datacenter
        && a.TaggedAddresses.Count == b.TaggedAddresses.Count && !a.TaggedAddresses.Except(b.TaggedAddresses).Any()
        && a.Meta.Count == b.Meta.Count && !a.Meta.Except(b.Meta).Any();

    private async Task PushAsync(IEnumerable<string> serviceIds)
    {
        var s = state.State;
        var node = s.Node ?? new CatalogNodeDto { Node = NodeName, Datacenter = datacenter.Datacenter };
        var nodeChecks = s.Checks.ToImmutableArray();
        var pushes = serviceIds.Distinct().Where(s.Services.ContainsKey).Select(id =>
        {
            var service = s.Services[id];
            return ServiceGrain(service.Service).UpsertAsync(new CatalogInstanceDto
            {
                Node = node, NodeChecks = nodeChecks, Service = service,
                Checks = s.ServiceChecks.TryGetValue(id, out var checks) ? [.. checks] : [],
            });
        }).ToList();
        await Task.WhenAll(pushes);
    }

    private Task PushDirectoryAsync() => Directory.SetNodeAsync(NodeName, DirectoryEntry());

    private CatalogInstanceDto DirectoryEntry() => new()
    {
        Node = state.State.Node ?? new CatalogNodeDto { Node = NodeName, Datacenter = datacenter.Datacenter },
        NodeChecks = [.. state.State.Checks],
        Checks = [.. state.State.ServiceChecks.Values.SelectMany(c => c)],
        ServiceNames = state.State.Services.ToImmutableDictionary(s => s.Key, s => s.Value.Service),
    };

    private ICatalogServiceGrain ServiceGrain(string service) =>
        GrainFactory.GetGrain<ICatalogServiceGrain>(CatalogKeys.Service(datacenter.Datacenter, service));

    private ICatalogDirectoryGrain Directory => GrainFactory.GetGrain<ICatalogDirectoryGrain>(datacenter.Datacenter);

    [LoggerMessage(EventId = MeridianEventIds.CatalogNodeRegistered, Level = LogLevel.Debug,
        Message = "Catalog: registered node {Node} (service {Service}) at index {Index}")]
    private static partial void LogRegistered(ILogger logger, string node, string service, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.CatalogDeregistered, Level = LogLevel.Debug,
        Message = "Catalog: deregistered on node {Node} (service ID {ServiceId}, check ID {CheckId}) at index {Index}")]
    private static partial void LogDeregistered(ILogger logger, string node, string serviceId, string checkId, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.CatalogTtlExpired, Level = LogLevel.Information,
        Message = "Catalog: TTL check {CheckId} on node {Node} expired; it is critical until refreshed")]
    private static partial void LogTtlExpired(ILogger logger, string node, string checkId);
}
