using System.Collections.Immutable;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

/// <summary>Runs the CLI in-process with captured output, a fake client and a fake silo launcher.</summary>
internal sealed class CliHarness
{
    public FakeMeridianClient Client { get; } = new();
    public FakeClientFactory Clients { get; }
    public FakeSiloLauncher Silos { get; } = new();
    public Dictionary<string, string> Environment { get; } = [];
    public SignalingWriter Out { get; } = new();
    public StringWriter Error { get; } = new();

    public CliHarness() => Clients = new FakeClientFactory(Client);

    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public CliContext Context => new(Out, Error, Clients, Silos, name => Environment.GetValueOrDefault(name)) { Clock = Clock };

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(CancellationToken.None, args);

    public async Task<CliResult> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var code = await MeridianCli.RunAsync(args, Context, cancellationToken);
        return new CliResult(code, Out.ToString(), Error.ToString());
    }
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A StringWriter that completes a waiter's task for the first line containing a text.</summary>
internal sealed class SignalingWriter : StringWriter
{
    private readonly List<(string Text, TaskCompletionSource Signal)> _waits = [];

    public Task WaitForLineAsync(string text)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waits) _waits.Add((text, signal));
        return signal.Task;
    }

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        lock (_waits)
        {
            foreach (var (text, signal) in _waits.Where(w => value?.Contains(w.Text, StringComparison.Ordinal) == true)) signal.TrySetResult();
        }
    }
}

internal sealed class FakeClientFactory(FakeMeridianClient client) : IMeridianClientFactory
{
    public List<MeridianClientOptions> Connections { get; } = [];
    public Exception? ConnectFailure { get; set; }

    public Task<MeridianConnection> ConnectAsync(MeridianClientOptions settings, CancellationToken cancellationToken)
    {
        lock (Connections) Connections.Add(settings);
        return ConnectFailure is { } failure ? Task.FromException<MeridianConnection>(failure) : Task.FromResult(new MeridianConnection(client));
    }
}

/// <summary>
/// Records starts and stops. Ports in <see cref="Busy"/> are held by "another process": a start that needs one fails
/// the way Orleans' listener does (AddressInUseException around SocketException 98, no endpoint in either).
/// </summary>
internal sealed class FakeSiloLauncher : IDevSiloLauncher
{
    public List<DevSiloPlan> Started { get; } = [];
    public List<DevSiloPlan> Stopped { get; } = [];
    public HashSet<int> Busy { get; } = [];

    /// <summary>Taken by another process while this datacenter starts: after the check, before the bind.</summary>
    public (string Datacenter, int Port)? TakenDuringStart { get; set; }

    /// <summary>Thrown by every start (after the port emulation).</summary>
    public Exception? StartFailure { get; set; }

    public IReadOnlyList<int> PortsInUse(DevSiloPlan plan)
        => [.. new[] { plan.GatewayPort, plan.SiloPort, plan.HttpPort }.Where(Busy.Contains)];

    public Task<IAsyncDisposable> StartAsync(DevSiloPlan plan, CancellationToken cancellationToken)
    {
        if (TakenDuringStart is { } taken && taken.Datacenter == plan.Datacenter) Busy.Add(taken.Port);
        if (PortsInUse(plan).Count > 0)
        {
            return Task.FromException<IAsyncDisposable>(new Microsoft.AspNetCore.Connections.AddressInUseException(
                "Address already in use", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.AddressAlreadyInUse)));
        }
        if (StartFailure is { } failure) return Task.FromException<IAsyncDisposable>(failure);
        Started.Add(plan);
        return Task.FromResult<IAsyncDisposable>(new Running(() => Stopped.Add(plan)));
    }

    private sealed class Running(Action stop) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            stop();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Records requests and answers with canned DTOs; <see cref="Failure"/> makes every call throw.</summary>
internal sealed class FakeMeridianClient : IMeridianClient
{
    public static readonly DateTimeOffset NotBefore = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public Exception? Failure { get; set; }
    public List<object> Requests { get; } = [];
    public bool Allowed { get; set; } = true;
    public CaConfigurationDto Configuration { get; set; } = new() { ClusterID = "11111111-2222" };

    public CaRootListDto Roots { get; set; } = new()
    {
        ActiveRootID = "aa:bb",
        TrustDomain = "11111111-2222.consul",
        Roots =
        [
            new CaRootDto
            {
                ID = "aa:bb", Name = "Consul CA Primary Cert", SerialNumber = 7, SigningKeyID = "cc:dd", NotBefore = NotBefore,
                NotAfter = NotBefore.AddYears(10), RootCert = "-----BEGIN CERTIFICATE-----\nROOT1\n-----END CERTIFICATE-----\n",
                IntermediateCerts = ["-----BEGIN CERTIFICATE-----\nINTER1\n-----END CERTIFICATE-----"], Active = true,
            },
            new CaRootDto
            {
                ID = "ee:ff", Name = "Consul CA Primary Cert", SerialNumber = 3, NotBefore = NotBefore, NotAfter = NotBefore.AddYears(10),
                RootCert = "-----BEGIN CERTIFICATE-----\nROOT0\n-----END CERTIFICATE-----\n", RotatedOutAt = NotBefore,
            },
        ],
    };

    public IssuedCertificateDto Certificate { get; set; } = new()
    {
        SerialNumber = "0e", Service = "web", ServiceURI = "spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/web",
        CertPEM = "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n",
        PrivateKeyPEM = "-----BEGIN EC PRIVATE KEY-----\nSECRET\n-----END EC PRIVATE KEY-----\n",
        ValidAfter = NotBefore, ValidBefore = NotBefore.AddHours(72),
    };

    public DatacenterStatusDto Status { get; set; } = new()
    {
        Datacenter = "dc1", PrimaryDatacenter = "dc1", Role = "primary", TrustDomain = "11111111-2222.consul",
        Ca = new CaStatusDto { State = "INITIALIZED", ActiveRootID = "aa:bb", SigningCaExpiry = NotBefore.AddYears(10) },
        StorageProvider = "Memory",
    };

    public string Datacenter => "dc1";

    private Task<T> Answer<T>(object request, T result)
    {
        lock (Requests) Requests.Add(request);
        return Failure is { } failure ? Task.FromException<T>(failure) : Task.FromResult(result);
    }

    /// <summary>Where writes say they were committed ("dc1" = this datacenter; another name = forwarded to a primary).</summary>
    public string CommittedIn { get; set; } = "dc1";

    /// <summary>What WaitForReplicatedAsync answers.</summary>
    public bool Replicated { get; set; } = true;

    public List<ReplicationStatusDto> Replication { get; } = [];

    public Task<IntentionWriteResultDto> UpsertIntentionAsync(IntentionDto intention, CancellationToken cancellationToken = default)
        => Answer(intention, new IntentionWriteResultDto(42, CommittedIn));

    public Task<IntentionWriteResultDto> DeleteIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Answer(intention, new IntentionWriteResultDto(43, CommittedIn));

    public Task<IntentionDto> GetIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Answer(intention, new IntentionDto { ID = "id-1", SourceName = "web", DestinationName = "db", Action = "allow", Precedence = 9 });

    /// <summary>What ListIntentionsAsync answers.</summary>
    public IntentionListDto Intentions { get; set; } = new(5, [new IntentionDto { SourceName = "web", DestinationName = "db", Action = "deny" }]);

    public Task<IntentionListDto> ListIntentionsAsync(CancellationToken cancellationToken = default)
        => Answer("list", Intentions);

    public Task<IntentionMatchDto> MatchIntentionsAsync(string by, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
        => Answer((by, names), new IntentionMatchDto(5, [.. names.Select(n => new IntentionMatchEntryDto(n, []))]));

    public Task<bool> CheckIntentionAsync(string source, string destination, CancellationToken cancellationToken = default)
        => Answer((source, destination), Allowed);

    public Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request, CancellationToken cancellationToken = default)
        => Answer(request, new AuthorizeResultDto(true, "Matched L4 intention: web => db (allow)"));

    public Task<CaRootListDto> GetCaRootsAsync(CancellationToken cancellationToken = default) => Answer("roots", Roots);

    public Task<CaConfigurationDto> GetCaConfigurationAsync(CancellationToken cancellationToken = default) => Answer("config", Configuration);

    public Task<CaConfigurationDto> SetCaConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default)
        => Answer(configuration, configuration);

    public Task<CaRootListDto> RotateCaAsync(CancellationToken cancellationToken = default) => Answer("rotate", Roots);

    public Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default)
        => Answer(("adopt-primary", trustDomain), Status.Ca);

    public Task<IssuedCertificateDto> GetCertificateAsync(string service, string? waitNewerThanSerial = null, TimeSpan? maxWait = null, CancellationToken cancellationToken = default)
        => Answer((service, waitNewerThanSerial), Certificate);

    public Task<IssuedCertificateDto> SignCertificateAsync(string service, string csrPem, CancellationToken cancellationToken = default)
        => Answer((service, csrPem), Certificate with { PrivateKeyPEM = "" });

    public Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default) => Answer("status", Status);

    public DatacenterListDto Datacenters { get; set; } = new();

    public Task<DatacenterListDto> GetDatacentersAsync(CancellationToken cancellationToken = default) => Answer("datacenters", Datacenters);

    public Task<IReadOnlyList<ReplicationStatusDto>> GetReplicationStatusAsync(CancellationToken cancellationToken = default)
        => Answer<IReadOnlyList<ReplicationStatusDto>>("replication", Replication);

    /// <summary>What AdoptPrimaryStateAsync answers.</summary>
    public ReplicationAdoptResultDto Adoption { get; set; } = new() { Message = "nothing is held: dc1 follows dc0 (replicated index 7)", ReplicatedIndex = 7 };

    public Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default)
        => Answer("adopt", Adoption);

    public async Task<MeridianIndexed<IntentionListDto>> WatchIntentionsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var list = await ListIntentionsAsync(cancellationToken);
        return new(list.Index + 1, list);
    }

    public async Task<MeridianIndexed<CaRootListDto>> WatchCaRootsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var roots = await GetCaRootsAsync(cancellationToken);
        return new(roots.Index + 1, roots);
    }

    public Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => Answer(("wait-replicated", primaryIndex), Replicated);

    public T Last<T>() => Requests.OfType<T>().Last();

    // The catalog commands run against a real silo (CatalogCommandTests), as the acl commands do.
    public Task<ulong> RegisterCatalogAsync(CatalogRegisterRequestDto request, CancellationToken cancellationToken = default) => NotFaked<ulong>();
    public Task<ulong> DeregisterCatalogAsync(CatalogDeregisterRequestDto request, CancellationToken cancellationToken = default) => NotFaked<ulong>();
    public Task<CatalogServicesDto> GetCatalogServicesAsync(string? datacenter = null, CancellationToken cancellationToken = default) => NotFaked<CatalogServicesDto>();
    public Task<CatalogNodesDto> GetCatalogNodesAsync(string? datacenter = null, CancellationToken cancellationToken = default) => NotFaked<CatalogNodesDto>();
    public Task<ServiceHealthDto> GetServiceHealthAsync(string service, bool passingOnly = false, string? datacenter = null, CancellationToken cancellationToken = default) => NotFaked<ServiceHealthDto>();
    public Task<IReadOnlyList<ServiceNode>> GetCatalogServiceAsync(string service, string? datacenter = null, CancellationToken cancellationToken = default) => NotFaked<IReadOnlyList<ServiceNode>>();
    public Task<HealthCheckDto> UpdateCheckAsync(string checkId, string status, string? node = null, string? output = null, string? datacenter = null, CancellationToken cancellationToken = default) => NotFaked<HealthCheckDto>();

    // The acl commands run against a real silo (AclCommandTests): nothing here pretends to be the ACL store.
    public IMeridianClient WithToken(string? token) => this;
    private static Task<T> NotFaked<T>() => Task.FromException<T>(new NotSupportedException("acl commands are tested against a real silo (AclCommandTests)"));
    public Task<AclTokenDto> AclBootstrapAsync(string? bootstrapSecret = null, CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<AclPolicyDto> CreateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default) => NotFaked<AclPolicyDto>();
    public Task<AclPolicyDto> UpdateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default) => NotFaked<AclPolicyDto>();
    public Task<AclPolicyDto> GetAclPolicyAsync(string? id, string? name = null, CancellationToken cancellationToken = default) => NotFaked<AclPolicyDto>();
    public Task<ulong> DeleteAclPolicyAsync(string id, CancellationToken cancellationToken = default) => NotFaked<ulong>();
    public Task<IReadOnlyList<AclPolicyDto>> ListAclPoliciesAsync(CancellationToken cancellationToken = default) => NotFaked<IReadOnlyList<AclPolicyDto>>();
    public Task<AclRoleDto> CreateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default) => NotFaked<AclRoleDto>();
    public Task<AclRoleDto> UpdateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default) => NotFaked<AclRoleDto>();
    public Task<AclRoleDto> GetAclRoleAsync(string? id, string? name = null, CancellationToken cancellationToken = default) => NotFaked<AclRoleDto>();
    public Task<ulong> DeleteAclRoleAsync(string id, CancellationToken cancellationToken = default) => NotFaked<ulong>();
    public Task<IReadOnlyList<AclRoleDto>> ListAclRolesAsync(CancellationToken cancellationToken = default) => NotFaked<IReadOnlyList<AclRoleDto>>();
    public Task<AclTokenDto> CreateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<AclTokenDto> CreateAclReplicationTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<AclTokenDto> UpdateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<AclTokenDto> GetAclTokenAsync(string accessorId, CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<AclTokenDto> GetAclTokenSelfAsync(CancellationToken cancellationToken = default) => NotFaked<AclTokenDto>();
    public Task<ulong> DeleteAclTokenAsync(string accessorId, CancellationToken cancellationToken = default) => NotFaked<ulong>();
    public Task<IReadOnlyList<AclTokenDto>> ListAclTokensAsync(CancellationToken cancellationToken = default) => NotFaked<IReadOnlyList<AclTokenDto>>();

    /// <summary>What the prepared-query reads answer.</summary>
    public PreparedQueryDto Query { get; set; } = new()
    {
        ID = "5e1e24e5-1329-f86f-18c6-3d3734edb2cd", Name = "geo-db", Token = "<hidden>",
        Service = new ServiceQueryDto { Service = "db", Failover = new QueryFailoverDto { NearestN = 2, Datacenters = ["dc2", "dc3"] } },
        DNS = new QueryDnsDto { TTL = "10s" }, CreateIndex = 3, ModifyIndex = 4,
    };

    public Task<string> CreatePreparedQueryAsync(PreparedQueryDto query, CancellationToken cancellationToken = default)
        => Answer(query, Query.ID);

    public Task<ulong> UpdatePreparedQueryAsync(string id, PreparedQueryDto query, CancellationToken cancellationToken = default)
        => Answer((id, query), 9UL);

    public Task<ulong> DeletePreparedQueryAsync(string id, CancellationToken cancellationToken = default) => Answer(("delete", id), 10UL);

    public Task<PreparedQueryListDto> ListPreparedQueriesAsync(CancellationToken cancellationToken = default)
        => Answer("queries", new PreparedQueryListDto([Query], 4, FilteredByAcls: true));

    public Task<PreparedQueryDto> GetPreparedQueryAsync(string id, CancellationToken cancellationToken = default) => Answer(("get", id), Query);

    public PreparedQueryExecuteResultDto Execution { get; set; } = new() { Service = "web", Datacenter = "dc2", Failovers = 1 };

    public Task<PreparedQueryExecuteResultDto> ExecutePreparedQueryAsync(string idOrName, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default)
        => Answer(("execute", idOrName, options?.Limit ?? 0, options?.Connect ?? false), Execution);

    public Task<UpstreamResolutionResult> ResolveUpstreamAsync(string? sourceService, UpstreamDto upstream, CancellationToken cancellationToken = default)
        => Answer(("resolve", sourceService, upstream.DestinationType, upstream.DestinationName, upstream.Datacenter),
            new UpstreamResolutionResult(upstream.DestinationType, upstream.DestinationName, upstream.Datacenter, 0, false,
                [new UpstreamEndpoint("198.51.100.7", 8443, upstream.Datacenter, $"spiffe://td.consul/ns/default/dc/{upstream.Datacenter}/svc/{upstream.DestinationName}", "n1", "db-1")]));

    public Task<PreparedQueryDto> ExplainPreparedQueryAsync(string idOrName, CancellationToken cancellationToken = default)
        => Answer(("explain", idOrName), Query);
}
