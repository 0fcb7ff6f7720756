using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Meridian.Grains;
using Microsoft.Extensions.Options;

namespace Meridian.Client;

/// <summary><see cref="IMeridianClient"/> over an Orleans <see cref="IClusterClient"/> connected to one datacenter.</summary>
public sealed class MeridianClient : IMeridianClient
{
    private readonly IClusterClient cluster;
    private readonly MeridianClientOptions _options;
    private readonly string? _token;

    /// <summary>A client sending <see cref="MeridianClientOptions.Token"/>.</summary>
    public MeridianClient(IClusterClient cluster, IOptions<MeridianClientOptions> options)
        : this(cluster, options.Value, options.Value.Token)
    {
    }

    private MeridianClient(IClusterClient cluster, MeridianClientOptions options, string? token)
        => (this.cluster, _options, _token) = (cluster, options, string.IsNullOrEmpty(token) ? null : token);

    /// <inheritdoc />
    public string Datacenter => _options.Datacenter;

    /// <inheritdoc />
    public IMeridianClient WithToken(string? token) => new MeridianClient(cluster, _options, token);

    /// <inheritdoc />
    public Task<AclTokenDto> AclBootstrapAsync(string? bootstrapSecret = null, CancellationToken cancellationToken = default)
        => Call(() => Acl.BootstrapAsync(bootstrapSecret, cancellationToken));

    /// <inheritdoc />
    public Task<AclPolicyDto> CreateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!string.IsNullOrEmpty(policy.ID)) throw new ArgumentException("A new policy has no ID yet; use UpdateAclPolicyAsync to change one", nameof(policy));
        return Call(() => Acl.SetPolicyAsync(policy, cancellationToken));
    }

    /// <inheritdoc />
    public Task<AclPolicyDto> UpdateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(policy.ID, nameof(policy));
        return Call(() => Acl.SetPolicyAsync(policy, cancellationToken));
    }

    /// <inheritdoc />
    public Task<AclPolicyDto> GetAclPolicyAsync(string? id, string? name = null, CancellationToken cancellationToken = default)
        => Call(() => Acl.GetPolicyAsync(id, name, cancellationToken));

    /// <inheritdoc />
    public Task<ulong> DeleteAclPolicyAsync(string id, CancellationToken cancellationToken = default)
        => Call(() => Acl.DeletePolicyAsync(id, cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<AclPolicyDto>> ListAclPoliciesAsync(CancellationToken cancellationToken = default)
        => await Call(() => Acl.ListPoliciesAsync(cancellationToken));

    /// <inheritdoc />
    public Task<AclRoleDto> CreateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(role);
        if (!string.IsNullOrEmpty(role.ID)) throw new ArgumentException("A new role has no ID yet; use UpdateAclRoleAsync to change one", nameof(role));
        return Call(() => Acl.SetRoleAsync(role, cancellationToken));
    }

    /// <inheritdoc />
    public Task<AclRoleDto> UpdateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(role);
        ArgumentException.ThrowIfNullOrEmpty(role.ID, nameof(role));
        return Call(() => Acl.SetRoleAsync(role, cancellationToken));
    }

    /// <inheritdoc />
    public Task<AclRoleDto> GetAclRoleAsync(string? id, string? name = null, CancellationToken cancellationToken = default)
        => Call(() => Acl.GetRoleAsync(id, name, cancellationToken));

    /// <inheritdoc />
    public Task<ulong> DeleteAclRoleAsync(string id, CancellationToken cancellationToken = default)
        => Call(() => Acl.DeleteRoleAsync(id, cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<AclRoleDto>> ListAclRolesAsync(CancellationToken cancellationToken = default)
        => await Call(() => Acl.ListRolesAsync(cancellationToken));

    /// <inheritdoc />
    public Task<AclTokenDto> CreateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default)
        => Call(() => Acl.CreateTokenAsync(token, cancellationToken));

    /// <inheritdoc />
    public async Task<AclTokenDto> CreateAclReplicationTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        const string Name = Core.Acl.AclBuiltins.ReplicationPolicyName;
        AclPolicyDto policy;
        try
        {
            policy = await GetAclPolicyAsync(null, Name, cancellationToken);
        }
        catch (MeridianNotFoundException)
        {
            policy = await CreateAclPolicyAsync(new AclPolicyDto
            {
                Name = Name,
                Description = "What a secondary datacenter's replication token needs (Consul's documented replication policy)",
                Rules = Core.Acl.AclBuiltins.ReplicationPolicyRules,
            }, cancellationToken);
        }
        if (policy.Rules.Trim() != Core.Acl.AclBuiltins.ReplicationPolicyRules.Trim())
        {
            throw new MeridianValidationException([new ValidationProblemDto("Policies", "invalid_value",
                $"policy \"{Name}\" exists with other rules than the replication policy; rename or delete it, or link it yourself with --policy-name")]);
        }
        return await CreateAclTokenAsync(token with
        {
            Description = string.IsNullOrEmpty(token.Description) ? "Replication Token" : token.Description,
            Policies = [.. token.Policies.IsDefault ? [] : token.Policies, new AclLinkDto(policy.ID, policy.Name)],
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AclTokenDto> UpdateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default)
        => Call(() => Acl.UpdateTokenAsync(token, cancellationToken));

    /// <inheritdoc />
    public Task<AclTokenDto> GetAclTokenAsync(string accessorId, CancellationToken cancellationToken = default)
        => Call(() => Acl.GetTokenAsync(accessorId, cancellationToken));

    /// <inheritdoc />
    public Task<AclTokenDto> GetAclTokenSelfAsync(CancellationToken cancellationToken = default)
        => Call(() => Acl.GetSelfAsync(cancellationToken));

    /// <inheritdoc />
    public Task<ulong> DeleteAclTokenAsync(string accessorId, CancellationToken cancellationToken = default)
        => Call(() => Acl.DeleteTokenAsync(accessorId, cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<AclTokenDto>> ListAclTokensAsync(CancellationToken cancellationToken = default)
        => await Call(() => Acl.ListTokensAsync(cancellationToken));

    /// <inheritdoc />
    public Task<string> CreatePreparedQueryAsync(PreparedQueryDto query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Call(() => Queries.CreateAsync(query, cancellationToken));
    }

    /// <inheritdoc />
    public Task<ulong> UpdatePreparedQueryAsync(string id, PreparedQueryDto query, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(query);
        return Call(() => Queries.UpdateAsync(id, query, cancellationToken));
    }

    /// <inheritdoc />
    public Task<ulong> DeletePreparedQueryAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Call(() => Queries.DeleteAsync(id, cancellationToken));
    }

    /// <inheritdoc />
    public Task<PreparedQueryListDto> ListPreparedQueriesAsync(CancellationToken cancellationToken = default)
        => Call(() => Queries.ListAsync(cancellationToken));

    /// <inheritdoc />
    public Task<PreparedQueryDto> GetPreparedQueryAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Call(() => Queries.GetAsync(id, cancellationToken));
    }

    /// <inheritdoc />
    public Task<PreparedQueryDto> ExplainPreparedQueryAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrName);
        return Call(() => Queries.ExplainAsync(idOrName, cancellationToken));
    }

    /// <inheritdoc />
    public Task<PreparedQueryExecuteResultDto> ExecutePreparedQueryAsync(string idOrName, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrName);
        return Call(() => Queries.ExecuteAsync(idOrName, options ?? new QueryExecuteOptionsDto(), cancellationToken));
    }

    /// <inheritdoc />
    public async Task<UpstreamResolutionResult> ResolveUpstreamAsync(string? sourceService, UpstreamDto upstream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentException.ThrowIfNullOrEmpty(upstream.DestinationName);
        if (!string.IsNullOrEmpty(sourceService) && (upstream.DestinationType.Length == 0 || upstream.Datacenter.Length == 0))
        {
            // What the source's sidecar declares for this destination fills what the caller left out.
            var sidecars = await GetServiceHealthAsync(sourceService + "-sidecar-proxy", false, null, cancellationToken);
            var declared = sidecars.Instances.SelectMany(i => i.Service.Proxy?.Upstreams is { IsDefault: false } u ? u : [])
                .FirstOrDefault(u => u.DestinationName == upstream.DestinationName);
            if (declared is not null)
                upstream = upstream with
                {
                    DestinationType = upstream.DestinationType.Length > 0 ? upstream.DestinationType : declared.DestinationType,
                    Datacenter = upstream.Datacenter.Length > 0 ? upstream.Datacenter : declared.Datacenter,
                };
        }
        var trustDomain = (await GetCaRootsAsync(cancellationToken)).TrustDomain;
        var name = upstream.DestinationName;
        if (upstream.DestinationType == Meridian.Core.Discovery.UpstreamRules.PreparedQuery)
        {
            // Consul's proxy executes with connect=true; a destination without sidecars answers its instances instead.
            var connect = await ExecutePreparedQueryAsync(name, new QueryExecuteOptionsDto { Connect = true }, cancellationToken);
            var viaSidecar = connect.Nodes.Length > 0;
            var answer = viaSidecar ? connect : await ExecutePreparedQueryAsync(name, null, cancellationToken);
            return new(upstream.DestinationType, name, answer.Datacenter, answer.Failovers, viaSidecar,
                UpstreamResolution.Endpoints(answer.Nodes, Datacenter, trustDomain));
        }
        if (upstream.DestinationType.Length > 0 && upstream.DestinationType != Meridian.Core.Discovery.UpstreamRules.Service)
            throw new ArgumentException($"unknown upstream destination type: \"{upstream.DestinationType}\"", nameof(upstream));
        var dc = upstream.Datacenter.Length > 0 ? upstream.Datacenter : Datacenter;
        var proxies = UpstreamResolution.SidecarsOf((await GetServiceHealthAsync(name + "-sidecar-proxy", true, dc, cancellationToken)).Instances, name).ToList();
        var entries = proxies.Count > 0 ? proxies : [.. (await GetServiceHealthAsync(name, true, dc, cancellationToken)).Instances];
        return new(Meridian.Core.Discovery.UpstreamRules.Service, name, dc, 0, proxies.Count > 0, UpstreamResolution.Endpoints(entries, Datacenter, trustDomain));
    }

    /// <inheritdoc />
    public Task<IntentionWriteResultDto> UpsertIntentionAsync(IntentionDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.UpsertAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionWriteResultDto> DeleteIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.DeleteAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionDto> GetIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.GetAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionListDto> ListIntentionsAsync(CancellationToken cancellationToken = default)
        => Call(() => Registry.ListAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<MeridianIndexed<IntentionListDto>> WatchIntentionsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        // The changes feed is only the wake-up: the answer is the whole list, read after it (ACL-filtered as a list).
        await Blocking.WaitAsync(minIndex, maxWait,
            async (held, remaining) => (await Call(() => Registry.WaitForChangesAsync(held, remaining, cancellationToken), nameof(IIntentionRegistryGrain.WaitForChangesAsync))).Index,
            cancellationToken);
        var list = await ListIntentionsAsync(cancellationToken);
        return new(Blocking.Index(list.Index), list);
    }

    /// <inheritdoc />
    public Task<IntentionMatchDto> MatchIntentionsAsync(string by, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
        => Call(() => Registry.MatchAsync(by, [.. names], cancellationToken));

    /// <inheritdoc />
    public Task<bool> CheckIntentionAsync(string source, string destination, CancellationToken cancellationToken = default)
        => Call(() => Authorizer.CheckAsync(source, destination));

    /// <inheritdoc />
    public Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request, CancellationToken cancellationToken = default)
        => Call(() => Authorizer.AuthorizeAsync(request));

    /// <inheritdoc />
    public Task<CaRootListDto> GetCaRootsAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.GetRootsAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<MeridianIndexed<CaRootListDto>> WatchCaRootsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        CaRootListDto? roots = null;
        await Blocking.WaitAsync(minIndex, maxWait,
            async (held, remaining) => (roots = await Call(() => Ca.WaitForRootsChangeAsync(held, remaining, cancellationToken), nameof(ICertificateAuthorityGrain.WaitForRootsChangeAsync))).Index,
            cancellationToken);
        roots ??= await GetCaRootsAsync(cancellationToken);
        return new(Blocking.Index(roots.Index), roots);
    }

    /// <inheritdoc />
    public Task<CaConfigurationDto> GetCaConfigurationAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.GetConfigurationAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CaConfigurationDto> SetCaConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default)
        => Call(() => Ca.SetConfigurationAsync(configuration, cancellationToken));

    /// <inheritdoc />
    public Task<CaRootListDto> RotateCaAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.RotateAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default)
        => Call(() => Ca.AdoptPrimaryAsync(trustDomain, cancellationToken));

    /// <inheritdoc />
    public Task<IssuedCertificateDto> GetCertificateAsync(string service, string? waitNewerThanSerial = null, TimeSpan? maxWait = null, CancellationToken cancellationToken = default)
    {
        var grain = cluster.GetGrain<IServiceCertificateGrain>($"{Datacenter}/{service}");
        return string.IsNullOrEmpty(waitNewerThanSerial)
            ? Call(() => grain.GetAsync(cancellationToken))
            : Call(() => grain.WaitForNewerAsync(waitNewerThanSerial, maxWait ?? TimeSpan.FromMinutes(5), cancellationToken));
    }

    /// <inheritdoc />
    public Task<IssuedCertificateDto> SignCertificateAsync(string service, string csrPem, CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<ILeafSignerGrain>(Datacenter).SignCsrAsync(service, csrPem, cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReplicationStatusDto>> GetReplicationStatusAsync(CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(cancellationToken);
        return status.ReplicationStatuses();
    }

    /// <inheritdoc />
    public Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<IDatacenterGrain>(Datacenter).AdoptPrimaryStateAsync(cancellationToken));

    /// <inheritdoc />
    public Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => Call(() => Registry.WaitForReplicatedAsync(primaryIndex, maxWait, cancellationToken));

    /// <inheritdoc />
    public Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<IDatacenterGrain>(Datacenter).GetStatusAsync(cancellationToken));

    /// <inheritdoc />
    public Task<ulong> RegisterCatalogAsync(CatalogRegisterRequestDto request, CancellationToken cancellationToken = default)
        => Call(() => Catalog.RegisterAsync(request, cancellationToken));

    /// <inheritdoc />
    public Task<ulong> DeregisterCatalogAsync(CatalogDeregisterRequestDto request, CancellationToken cancellationToken = default)
        => Call(() => Catalog.DeregisterAsync(request, cancellationToken));

    /// <inheritdoc />
    public Task<CatalogServicesDto> GetCatalogServicesAsync(string? datacenter = null, CancellationToken cancellationToken = default)
        => Call(() => Catalog.GetServicesAsync(datacenter ?? "", cancellationToken));

    /// <inheritdoc />
    public Task<CatalogNodesDto> GetCatalogNodesAsync(string? datacenter = null, CancellationToken cancellationToken = default)
        => Call(() => Catalog.GetNodesAsync(datacenter ?? "", cancellationToken));

    /// <inheritdoc />
    public Task<ServiceHealthDto> GetServiceHealthAsync(string service, bool passingOnly = false, string? datacenter = null, CancellationToken cancellationToken = default)
        => Call(() => Catalog.GetServiceHealthAsync(service, passingOnly, datacenter ?? "", cancellationToken));

    /// <inheritdoc />
    public Task<ServiceHealthDto> WatchServiceHealthAsync(string service, ulong afterIndex, TimeSpan maxWait, bool passingOnly = false, string? datacenter = null, CancellationToken cancellationToken = default)
        => Call(() => Catalog.WaitForServiceHealthAsync(service, passingOnly, afterIndex, maxWait, datacenter ?? "", cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<ServiceNode>> GetCatalogServiceAsync(string service, string? datacenter = null, CancellationToken cancellationToken = default)
        => [.. (await GetServiceHealthAsync(service, false, datacenter, cancellationToken)).Instances.Select(ServiceNode.From)];

    /// <inheritdoc />
    public async Task<HealthCheckDto> UpdateCheckAsync(string checkId, string status, string? node = null, string? output = null, string? datacenter = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(node))
        {
            var found = await Call(() => Catalog.FindChecksAsync(checkId, datacenter ?? "", cancellationToken));
            var nodes = found.Select(c => c.Node).Distinct().ToList();
            node = nodes.Count switch
            {
                0 => throw new MeridianNotFoundException($"Unknown check ID '{checkId}'"),
                1 => nodes[0],
                _ => throw new MeridianValidationException([new ValidationProblemDto("node", "ambiguous",
                    $"Check ID '{checkId}' is on {nodes.Count} nodes ({string.Join(", ", nodes)}): name the node")]),
            };
        }
        var update = new CheckUpdateDto { Datacenter = datacenter ?? "", Node = node, CheckID = checkId, Status = status, Output = output ?? "" };
        return await Call(() => Catalog.UpdateCheckAsync(update, cancellationToken));
    }

    private ICatalogGrain Catalog => cluster.GetGrain<ICatalogGrain>(Datacenter);
    public Task<DatacenterListDto> GetDatacentersAsync(CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<IDatacenterRegistryGrain>(Datacenter).GetDatacentersAsync(cancellationToken));

    private IIntentionRegistryGrain Registry => cluster.GetGrain<IIntentionRegistryGrain>(Datacenter);
    private IAuthorizerGrain Authorizer => cluster.GetGrain<IAuthorizerGrain>(Datacenter);
    private ICertificateAuthorityGrain Ca => cluster.GetGrain<ICertificateAuthorityGrain>(Datacenter);
    private IAclStoreGrain Acl => cluster.GetGrain<IAclStoreGrain>(Datacenter);
    private IPreparedQueryGrain Queries => cluster.GetGrain<IPreparedQueryGrain>(Datacenter);

    // Every call carries this client's token in the request context (read by the silo, never logged), for that call
    // only: the caller's own RequestContext value is put back after it, so a token never rides along with the caller's
    // later calls (a grain or service that uses the SDK with another token, or none). A failure that is
    // neither a Meridian error nor the connection's own (timeout, unreachable gateway: the CLI names the gateway for
    // those) becomes a Meridian error here too: an exception the silo could not turn into one (a grain that failed to
    // activate) or that this client cannot decode (no codec) must not reach callers as an Orleans internal.
    private async Task<T> Call<T>(Func<Task<T>> call, [CallerMemberName] string operation = "")
    {
        if (!Retried.Contains(operation) || _options.RetryTimeout <= TimeSpan.Zero) return await CallOnce(call, operation);
        DateTimeOffset? giveUpAt = null;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await CallOnce(call, operation);
            }
            catch (Exception e) when (IsRetryable(e))
            {
                var now = TimeProvider.System.GetUtcNow();
                giveUpAt ??= now + _options.RetryTimeout;
                if (now >= giveUpAt) throw;
                // 100 ms, 200 ms, 400 ms ... 2 s: a gateway that stopped is skipped at once, a grain whose silo was
                // killed answers again once the cluster has declared that silo dead (seconds).
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 << Math.Min(attempt, 5))));
            }
        }
    }

    private async Task<T> CallOnce<T>(Func<Task<T>> call, string operation)
    {
        using var token = CallerToken.Use(_token);
        try
        {
            return await call();
        }
        catch (Exception e) when (!MeridianErrors.IsTransport(e) && MeridianErrors.Translate(e, operation) is { } error)
        {
            throw error;
        }
    }

    // A silo or gateway that could not be reached, directly or by the grain that served the call (the silo's filter
    // turns that into kind Unavailable, MeridianErrors.IsTranslatedTransport). Not another datacenter that is down
    // (DatacenterUnreachableException: the silo's link already waited for it, and the caller wants to know now), nor a
    // CA key that cannot be opened (retrying cannot fix the configuration).
    private static bool IsRetryable(Exception e) => MeridianErrors.IsTransport(e) || MeridianErrors.IsTranslatedTransport(e);

    // Calls that are safe to repeat when their reply was lost (MeridianClientOptions.RetryTimeout): reads, decisions,
    // certificate fetches (a grain answers its current certificate or issues one) and CSR signing (nothing is stored),
    // and the intention upsert, keyed by source and destination, so a repeat writes the same entry (Consul's
    // service-intentions config entry). Deletes and other writes are not: a lost reply does not say whether they ran.
    private static readonly System.Collections.Frozen.FrozenSet<string> Retried = new[]
    {
        nameof(UpsertIntentionAsync), nameof(GetIntentionAsync), nameof(ListIntentionsAsync), nameof(MatchIntentionsAsync),
        nameof(CheckIntentionAsync), nameof(AuthorizeAsync), nameof(GetCaRootsAsync), nameof(GetCaConfigurationAsync),
        nameof(GetCertificateAsync), nameof(SignCertificateAsync), nameof(WaitForReplicatedAsync), nameof(GetStatusAsync),
        nameof(GetCatalogServicesAsync), nameof(GetCatalogNodesAsync), nameof(GetServiceHealthAsync), nameof(GetDatacentersAsync),
        nameof(ListPreparedQueriesAsync), nameof(GetPreparedQueryAsync), nameof(ExplainPreparedQueryAsync), nameof(ExecutePreparedQueryAsync),
        nameof(GetAclPolicyAsync), nameof(ListAclPoliciesAsync), nameof(GetAclRoleAsync), nameof(ListAclRolesAsync),
        nameof(GetAclTokenAsync), nameof(GetAclTokenSelfAsync), nameof(ListAclTokensAsync),
    }.ToFrozenSet(StringComparer.Ordinal);
}
