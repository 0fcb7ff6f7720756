using System.Collections.Immutable;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Tests.Acl;

/// <summary>
/// A one-silo primary with ACLs on (default deny), over <see cref="StaticAclSource"/>: for each row, a token that
/// grants exactly what <see cref="AclMethodTable"/> says the method needs, one that lacks it (a level below, or
/// nothing), and what the service names are.
/// </summary>
public sealed class AclEnforcementFixture : IAsyncLifetime
{
    public const string Dc = CustomCluster.Datacenter;

    private CustomCluster? _cluster;

    public CustomCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public StaticAclSource Acls { get; private set; } = null!;

    /// <summary>Refusals the filter logged (<see cref="MeridianEventIds.AclCallRefused"/>, Debug).</summary>
    public LogRecorder Refusals { get; } = new(MeridianEventIds.AclCallRefused);

    /// <summary>Per row key: the secret and AccessorID of the token that grants, and of the one that lacks.</summary>
    public Dictionary<string, (Credential Grants, Credential Lacks)> Tokens { get; } = [];

    /// <summary>A token with <c>operator = "write"</c> and intention and service write on every name.</summary>
    public Credential Management { get; } = new(Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

    /// <summary>A token with <c>node:write</c> on nodes starting <c>acl-cat-</c> and nothing on services.</summary>
    public Credential NodeWriter { get; } = new(Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

    /// <summary>A token with <c>node:write</c> on <c>acl-cat-*</c> nodes and <c>service:write</c> on <c>acl-cat-own</c> only.</summary>
    public Credential ServiceOwner { get; } = new(Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

    /// <summary>A token with <c>service:read</c> on services starting <c>acl-q-</c> and <c>node:read</c> everywhere: a query's captured token.</summary>
    public Credential QueryReader { get; } = new(Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

    public async Task InitializeAsync()
    {
        List<AclPolicy> policies = [];
        List<(string, AclToken)> tokens = [];
        void Add(string key, Credential credential, string rules)
        {
            var id = $"p-{credential.AccessorId}";
            policies.Add(new AclPolicy { ID = id, Name = $"{key.Replace('.', '-')}-{policies.Count}", Rules = rules });
            tokens.Add((credential.SecretId, new AclToken { AccessorID = credential.AccessorId, SecretHash = "", Policies = [new(id, "")] }));
        }
        foreach (var (method, requirement) in AclMethodTable.Methods)
        {
            var key = AclEnforcementTests.KeyOf(method);
            if (requirement.None || !AclEnforcementTests.Rows.TryGetValue(key, out var row)) continue;
            var pair = (new Credential(Guid.NewGuid().ToString(), Guid.NewGuid().ToString()), new Credential(Guid.NewGuid().ToString(), Guid.NewGuid().ToString()));
            Add(key, pair.Item1, Rules(requirement, row.Names, grant: true));
            Add(key, pair.Item2, Rules(requirement, row.Names, grant: false));
            Tokens[key] = pair;
        }
        Add("management", Management, "operator = \"write\"\nservice_prefix \"\" { policy = \"write\" intentions = \"write\" }");
        Add("node-writer", NodeWriter, "node_prefix \"acl-cat-\" { policy = \"write\" }");
        Add("query-reader", QueryReader, "service_prefix \"acl-q-\" { policy = \"read\" }\nnode_prefix \"\" { policy = \"read\" }");
        Add("service-owner", ServiceOwner, "node_prefix \"acl-cat-\" { policy = \"write\" }\nservice \"acl-cat-own\" { policy = \"write\" }");

        Acls = new StaticAclSource(policies, [], tokens, anonymous: null, AclDefaultPolicy.Deny, Dc, TimeProvider.System);
        _cluster = await CustomCluster.StartAsync(services =>
        {
            services.AddSingleton<IAclAuthorizerSource>(Acls);
            // The real store (its own tokens; the filter resolves through Acls): its methods are rows too.
            services.AddSingleton(AclClusterFixture.Settings(initialManagement: null));
            services.AddSingleton<ILoggerProvider>(Refusals);
            services.AddLogging(b => b.AddFilter<LogRecorder>(null, LogLevel.Debug));
            services.AddSingleton(Meridian.Core.Certificates.CaConfiguration.Default with { CsrMaxPerSecond = 0 });
        });
        var client = Cluster.Client; // inside the datacenter: not checked
        await Cluster.Ca.InitializeAsync();
        foreach (var destination in new[] { "acl-del", "acl-get", "acl-list", "acl-feed" })
            await client.GetGrain<IIntentionRegistryGrain>(Dc).UpsertAsync(
                new IntentionDto { SourceName = $"{destination}-src", DestinationName = destination, Action = "allow" });
        await WaitForSignerAsync();
        await SeedStoreAsync(client.GetGrain<IAclStoreGrain>(Dc));
        await SeedQueriesAsync(client.GetGrain<IPreparedQueryGrain>(Dc));
        await SeedCatalogAsync(client.GetGrain<ICatalogGrain>(Dc));
        // What the execute rows and the captured-token test answer with; the queries with and without a captured token.
        foreach (var service in new[] { "acl-q-exec", "acl-q-exec-remote", "acl-q-captured" })
            await client.GetGrain<ICatalogGrain>(Dc).RegisterAsync(new CatalogRegisterRequestDto
            {
                Node = $"{service}-node", Address = "10.0.0.1", Service = new NodeServiceDto { Service = service, Port = 80 },
            });
        var queries = client.GetGrain<IPreparedQueryGrain>(Dc);
        await queries.CreateAsync(new PreparedQueryDto { Name = "acl-q-exec", Service = new ServiceQueryDto { Service = "acl-q-exec" } });
        await queries.CreateAsync(new PreparedQueryDto { Name = "acl-q-captured-with", Token = QueryReader.SecretId, Service = new ServiceQueryDto { Service = "acl-q-captured" } });
        await queries.CreateAsync(new PreparedQueryDto { Name = "acl-q-captured-without", Service = new ServiceQueryDto { Service = "acl-q-captured" } });
    }

    /// <summary>The prepared queries the query rows read, update and delete, written from inside the datacenter.</summary>
    private static async Task SeedQueriesAsync(IPreparedQueryGrain queries)
    {
        foreach (var name in new[] { "acl-q-get", "acl-q-upd", "acl-q-del", "acl-q-list", "acl-q-explain" })
            AclEnforcementTests.Seeded[name] = await queries.CreateAsync(
                new PreparedQueryDto { Name = name, Token = "query-token-secret", Service = new ServiceQueryDto { Service = "db" } });
    }

    /// <summary>What the catalog rows deregister, update and read, written from inside the datacenter (not checked).</summary>
    private static async Task SeedCatalogAsync(ICatalogGrain catalog)
    {
        foreach (var node in new[] { "acl-cat-del", "acl-cat-chk", "acl-cat-find", "acl-cat-nodes" })
            await catalog.RegisterAsync(new CatalogRegisterRequestDto
            {
                Node = node, Address = "10.0.0.1", Check = new HealthCheckDto { CheckID = $"{node}-check", Status = "critical" },
            });
        await catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = "acl-cat-takeover", Address = "10.0.0.1", Service = new NodeServiceDto { ID = "shared-1", Service = "acl-cat-theirs", Port = 80 },
        });
        foreach (var service in new[] { "acl-cat-svc", "acl-cat-health" })
            await catalog.RegisterAsync(new CatalogRegisterRequestDto
            {
                Node = $"{service}-node", Address = "10.0.0.1", Service = new NodeServiceDto { Service = service, Port = 80 },
            });
    }

    /// <summary>What the store rows read, update and delete, written from inside the datacenter (not checked).</summary>
    private static async Task SeedStoreAsync(IAclStoreGrain store)
    {
        foreach (var name in new[] { "acl-get-policy", "acl-del-policy" })
            AclEnforcementTests.Seeded[name] = (await store.SetPolicyAsync(new AclPolicyDto { Name = name, Rules = "operator = \"read\"" })).ID;
        foreach (var name in new[] { "acl-get-role", "acl-del-role" })
            AclEnforcementTests.Seeded[name] = (await store.SetRoleAsync(new AclRoleDto { Name = name, Policies = [AclLinkDto.ByName("acl-get-policy")] })).ID;
        foreach (var name in new[] { "acl-get-token", "acl-update-token", "acl-del-token" })
            AclEnforcementTests.Seeded[name] = (await store.CreateTokenAsync(new AclTokenDto { Description = name, Policies = [AclLinkDto.ByName("acl-get-policy")] })).AccessorID;
    }

    /// <summary>
    /// The rules of a token that grants <paramref name="requirement"/> on <paramref name="names"/>, or that lacks it by
    /// one step (read where write is needed, nothing where read is).
    /// </summary>
    private static string Rules(AclMethodRequirement requirement, IReadOnlyList<string> names, bool grant)
    {
        var level = AclWords.Of(requirement.Access);
        var weaker = requirement.Access == AclAccess.Write ? "read" : null;
        var give = grant ? level : weaker;
        if (give is null) return "";
        return requirement.Resource switch
        {
            AclResource.Operator => $"operator = \"{give}\"",
            AclResource.Acl => $"acl = \"{give}\"",
            // A health answer keeps an instance only with node:read on its node too (Consul's filterCheckServiceNodes).
            AclResource.Service => string.Join('\n', names.Select(n => $"service \"{n}\" {{ policy = \"{give}\" }}"))
                + (requirement.Filtered ? "\nnode_prefix \"\" { policy = \"read\" }" : ""),
            AclResource.Node => string.Join('\n', names.Select(n => $"node \"{n}\" {{ policy = \"{give}\" }}")),
            AclResource.Intention => string.Join('\n', names.Select(n => $"service \"{n}\" {{ policy = \"read\" intentions = \"{give}\" }}")),
            AclResource.Query => string.Join('\n', names.Select(n => $"query \"{n}\" {{ policy = \"{give}\" }}")),
            _ => throw new InvalidOperationException($"no rules for {requirement.Resource}"),
        };
    }

    private async Task WaitForSignerAsync()
    {
        var roots = await Cluster.Ca.GetRootsAsync();
        var signer = Cluster.SiloServices.GetRequiredService<LocalSigner>();
        using var cts = new CancellationTokenSource(ClusterFixture.SignalTimeout);
        while (signer.Current is not { } s || s.RootsIndex < roots.Index)
        {
            var replaced = signer.Replaced;
            if (signer.Current is { } now && now.RootsIndex >= roots.Index) break;
            await replaced.WaitAsync(cts.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

/// <summary>A token's SecretID (sent) and AccessorID (named in refusals).</summary>
public sealed record Credential(string SecretId, string AccessorId);

[CollectionDefinition(Name)]
public sealed class AclEnforcementCollection : ICollectionFixture<AclEnforcementFixture>
{
    public const string Name = "AclEnforcement";
}

/// <summary>
/// Issue 13 §3: every public and federation method, called from a client of the gateway with ACLs on, is allowed with
/// the rule it declares, refused without it (Consul's <c>Permission denied</c> naming the permission) with nothing
/// written, and filtered lists leave out what the token may not read. Driven by <see cref="AclMethodTable"/>: a method
/// without a row fails <see cref="Rows_CoverEveryEnforcedMethod"/>.
/// </summary>
[Collection(AclEnforcementCollection.Name), Trait("Category", "Cluster")]
public sealed class AclEnforcementTests(AclEnforcementFixture fx)
{
    private const string Dc = AclEnforcementFixture.Dc;
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";

    public static string KeyOf(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.GetCustomAttribute<AliasAttribute>()?.Alias ?? m.Name}";

    /// <summary>
    /// One call per method. <c>Names</c>: the service names the call uses (the rules of its tokens name them).
    /// <c>Observe</c>: a read from inside the datacenter, equal before and after a refusal. <c>Granted</c>: checks the
    /// answer with the right token (for <see cref="AclNoneAttribute"/> methods: without any); <c>GrantedKind</c>: the
    /// error kind the method itself answers instead (the ACL check passed, the input is refused further in).
    /// <c>Lacking</c>: for filtered answers, the check of the answer without the rule. <c>GrainRefuses</c>: a filtered
    /// method whose grain refuses itself (the name comes from stored state, as a prepared query's): without the rule
    /// it is refused like any other method, naming the permission on <c>Names[0]</c>.
    /// </summary>
    public sealed record Row(
        string[] Names,
        Func<IGrainFactory, Task<object?>> Call,
        Func<IGrainFactory, Task<object?>>? Observe = null,
        Action<object?>? Granted = null,
        MeridianErrorKind? GrantedKind = null,
        Action<object?>? Lacking = null,
        bool GrainRefuses = false);

    private static Func<IGrainFactory, Task<object?>> Call<T>(Func<IGrainFactory, Task<T>> call) => async g => await call(g);

    private static Func<IGrainFactory, Task<object?>> Call(Func<IGrainFactory, Task> call) => async g => { await call(g); return null; };

    private static IIntentionRegistryGrain Registry(IGrainFactory g) => g.GetGrain<IIntentionRegistryGrain>(Dc);

    private static ICertificateAuthorityGrain Ca(IGrainFactory g) => g.GetGrain<ICertificateAuthorityGrain>(Dc);

    private static ICatalogGrain Catalog(IGrainFactory g) => g.GetGrain<ICatalogGrain>(Dc);

    private static Func<IGrainFactory, Task<object?>> NodeState(string node) =>
        Call(g => g.GetGrain<ICatalogNodeGrain>($"{Dc}/{node}").GetState());

    private static Func<IGrainFactory, Task<object?>> IntentionsOf(string destination) => Call(async g =>
        (await Registry(g).ListAsync()).Intentions.Where(i => i.DestinationName == destination).Select(i => i.SourceName).ToArray());

    private static IAclStoreGrain Store(IGrainFactory g) => g.GetGrain<IAclStoreGrain>(Dc);

    /// <summary>IDs (AccessorIDs for tokens) of the store entries the fixture wrote, by name (description for tokens).</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, string> Seeded { get; } = new();

    private static IPreparedQueryGrain Queries(IGrainFactory g) => g.GetGrain<IPreparedQueryGrain>(Dc);

    private static Func<IGrainFactory, Task<object?>> QueryNames =>
        Call(async g => string.Join(',', (await Queries(g).ListAsync()).Queries.Select(q => $"{q.Name}={q.Service.Service}")));

    private static PreparedQueryDto QueryNamed(string name, string service = "db") => new() { Name = name, Service = new ServiceQueryDto { Service = service } };

    private static Func<IGrainFactory, Task<object?>> PolicyNames => Call(async g => string.Join(',', (await Store(g).ListPoliciesAsync()).Select(p => p.Name)));

    private static Func<IGrainFactory, Task<object?>> RoleNames => Call(async g => string.Join(',', (await Store(g).ListRolesAsync()).Select(r => r.Name)));

    private static Func<IGrainFactory, Task<object?>> TokenDescriptions => Call(async g => string.Join(',', (await Store(g).ListTokensAsync()).Select(t => t.Description)));

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException(what);
    }

    public static Dictionary<string, Row> Rows { get; } = new()
    {
        ["ICatalogGrain.Register"] = new(["acl-cat-reg"],
            Call(g => Catalog(g).RegisterAsync(new CatalogRegisterRequestDto { Node = "acl-cat-reg", Address = "10.0.0.9" })),
            NodeState("acl-cat-reg"), Granted: r => Check(r is ulong and > 0, "no write index")),
        ["ICatalogGrain.Deregister"] = new(["acl-cat-del"],
            Call(g => Catalog(g).DeregisterAsync(new CatalogDeregisterRequestDto { Node = "acl-cat-del" })),
            NodeState("acl-cat-del"), Granted: r => Check(r is ulong and > 0, "no write index")),
        ["ICatalogGrain.UpdateCheck"] = new(["acl-cat-chk"],
            Call(g => Catalog(g).UpdateCheckAsync(new CheckUpdateDto { Node = "acl-cat-chk", CheckID = "acl-cat-chk-check", Status = "passing" })),
            NodeState("acl-cat-chk"), Granted: r => Check(r is HealthCheckDto { Status: "passing" }, "not passing")),
        ["ICatalogGrain.FindChecks"] = new(["acl-cat-find"], Call(g => Catalog(g).FindChecksAsync("acl-cat-find-check")),
            Granted: r => Check(r is ImmutableArray<HealthCheckDto> { Length: 1 }, "the check is not found"),
            Lacking: r => Check(r is ImmutableArray<HealthCheckDto> { Length: 0 }, "a check on an unreadable node is shown")),
        ["ICatalogGrain.GetNodes"] = new(["acl-cat-nodes"], Call(g => Catalog(g).GetNodesAsync()),
            Granted: r => Check(r is CatalogNodesDto n && n.Nodes.Any(x => x.Node == "acl-cat-nodes"), "the node is not listed"),
            Lacking: r => Check(r is CatalogNodesDto { Nodes.Length: 0, FilteredByAcls: true }, "unreadable nodes listed, or not marked filtered")),
        ["ICatalogGrain.GetServices"] = new(["acl-cat-svc"], Call(g => Catalog(g).GetServicesAsync()),
            Granted: r => Check(r is CatalogServicesDto s && s.Services.ContainsKey("acl-cat-svc"), "the service is not listed"),
            Lacking: r => Check(r is CatalogServicesDto { Services.Count: 0, FilteredByAcls: true }, "unreadable services listed, or not marked filtered")),
        ["ICatalogGrain.GetServiceHealth"] = new(["acl-cat-health"], Call(g => Catalog(g).GetServiceHealthAsync("acl-cat-health")),
            Granted: r => Check(r is ServiceHealthDto { Instances.Length: 1 }, "the instance is not shown"),
            Lacking: r => Check(r is ServiceHealthDto { Instances.Length: 0, FilteredByAcls: true }, "an unreadable instance is shown, or not marked filtered")),
        ["ICatalogGrain.WaitForServiceHealth"] = new(["acl-cat-health"], Call(g => Catalog(g).WaitForServiceHealthAsync("acl-cat-health", false, 0, TimeSpan.Zero)),
            Granted: r => Check(r is ServiceHealthDto { Instances.Length: 1 }, "the instance is not shown"),
            Lacking: r => Check(r is ServiceHealthDto { Instances.Length: 0, FilteredByAcls: true }, "an unreadable instance is shown, or not marked filtered")),
        ["IIntentionRegistryGrain.Upsert"] = new(["acl-up"],
            Call(g => Registry(g).UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = "acl-up", Action = "allow" })),
            IntentionsOf("acl-up"), Granted: r => Check(r is IntentionWriteResultDto { Index: > 0 }, "no write index")),
        ["IIntentionRegistryGrain.Delete"] = new(["acl-del"],
            Call(g => Registry(g).DeleteAsync(new IntentionRefDto { Source = "acl-del-src", Destination = "acl-del" })),
            IntentionsOf("acl-del"), Granted: r => Check(r is IntentionWriteResultDto { Index: > 0 }, "no write index")),
        ["IIntentionRegistryGrain.Get"] = new(["acl-get"],
            Call(g => Registry(g).GetAsync(new IntentionRefDto { Source = "acl-get-src", Destination = "acl-get" })),
            Granted: r => Check(r is IntentionDto { DestinationName: "acl-get" }, "not the intention")),
        ["IIntentionRegistryGrain.List"] = new(["acl-list"], Call(g => Registry(g).ListAsync()),
            Granted: r => Check(r is IntentionListDto { FilteredByAcls: true } l && l.Intentions.Select(i => i.DestinationName).SequenceEqual(["acl-list"]),
                $"expected only acl-list, filtered: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is IntentionListDto { FilteredByAcls: true, Intentions.IsEmpty: true }, $"expected nothing, filtered: {JsonSerializer.Serialize(r)}")),
        ["IIntentionRegistryGrain.Match"] = new(["acl-match"], Call(g => Registry(g).MatchAsync("destination", ["default/acl-match"])),
            Granted: r => Check(r is IntentionMatchDto { Matches: [{ Name: "default/acl-match" }] }, "no match entry")),
        ["IIntentionRegistryGrain.WaitForChanges"] = new(["acl-feed"], Call(g => Registry(g).WaitForChangesAsync(0, TimeSpan.Zero)),
            Granted: r => Check(r is IntentionChangesDto { FilteredByAcls: true } c && c.Upserts.Select(e => e.Name).SequenceEqual(["acl-feed"]),
                $"expected only acl-feed, filtered: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is IntentionChangesDto { FilteredByAcls: true, Upserts.IsEmpty: true, Index: > 0 }, $"expected nothing, filtered: {JsonSerializer.Serialize(r)}")),
        ["IIntentionRegistryGrain.WaitForChangesFrom"] = new(["acl-feed"],
            Call(g => Registry(g).WaitForChangesAsync(new IntentionPositionDto(0, ""), TimeSpan.Zero)),
            Granted: r => Check(r is IntentionChangesDto { FilteredByAcls: true } c && c.Upserts.Select(e => e.Name).SequenceEqual(["acl-feed"]),
                $"expected only acl-feed, filtered: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is IntentionChangesDto { FilteredByAcls: true, Upserts.IsEmpty: true }, $"expected nothing, filtered: {JsonSerializer.Serialize(r)}")),
        ["IIntentionRegistryGrain.WaitForReplicated"] = new([], Call(g => Registry(g).WaitForReplicatedAsync(0, TimeSpan.Zero)),
            Granted: r => Check(r is true, "not replicated")),
        ["IAuthorizerGrain.Authorize"] = new(["acl-authz"],
            Call(g => g.GetGrain<IAuthorizerGrain>(Dc).AuthorizeAsync(new AuthorizeRequestDto
                { Target = "acl-authz", ClientCertURI = $"spiffe://{Td}/ns/default/dc/{Dc}/svc/web" })),
            // Issue 13 §3: ACLs on, default deny, no intention: Consul's reason.
            Granted: r => Check(r is AuthorizeResultDto { Authorized: false, Reason: "Default behavior configured by ACLs" }, $"answer {r}")),
        ["IAuthorizerGrain.Check"] = new(["acl-check"], Call(g => g.GetGrain<IAuthorizerGrain>(Dc).CheckAsync("web", "acl-check")),
            Granted: r => Check(r is false, "allowed under default deny")),
        ["ICertificateAuthorityGrain.GetRoots"] = new([], Call(g => Ca(g).GetRootsAsync()),
            Granted: r => Check(r is CaRootListDto { Roots.IsEmpty: false }, "no roots")),
        ["ICertificateAuthorityGrain.WaitForRootsChange"] = new([], Call(g => Ca(g).WaitForRootsChangeAsync(0, TimeSpan.Zero)),
            Granted: r => Check(r is CaRootListDto { Roots.IsEmpty: false }, "no roots")),
        ["ICertificateAuthorityGrain.GetConfiguration"] = new([], Call(g => Ca(g).GetConfigurationAsync()),
            Granted: r => Check(r is CaConfigurationDto { Provider: "consul" }, "no configuration")),
        ["ICertificateAuthorityGrain.SetConfiguration"] = new([],
            Call(g => Ca(g).SetConfigurationAsync(new CaConfigurationDto { LeafCertTTL = TimeSpan.FromHours(48) })),
            Call(g => Ca(g).GetConfigurationAsync()),
            Granted: r => Check(r is CaConfigurationDto { LeafCertTTL.TotalHours: 48 }, "not set")),
        ["ICertificateAuthorityGrain.Rotate"] = new([], Call(g => Ca(g).RotateAsync()),
            Call(async g => (await Ca(g).GetRootsAsync()).ActiveRootID),
            Granted: r => Check(r is CaRootListDto { Roots.Length: > 1 }, "not rotated")),
        ["ICertificateAuthorityGrain.SignIntermediate"] = new([], Call(g => Ca(g).SignIntermediateAsync("not a csr", "dc2")),
            GrantedKind: MeridianErrorKind.Validation),
        ["ICertificateAuthorityGrain.ReportRotationProgress"] = new([],
            Call(g => Ca(g).ReportRotationProgressAsync(new RotationProgressDto { Datacenter = "dc2", ActiveRootID = "x", OnActiveRoot = 1, Total = 1 })),
            GrantedKind: MeridianErrorKind.Validation),
        ["ICertificateAuthorityGrain.AdoptPrimary"] = new([], Call(g => Ca(g).AdoptPrimaryAsync("22222222-2222-3333-4444-555555555555.consul")),
            Call(g => Ca(g).GetStatusAsync()), GrantedKind: MeridianErrorKind.Validation),
        ["IServiceCertificateGrain.Get"] = new(["acl-cert"], Call(g => g.GetGrain<IServiceCertificateGrain>($"{Dc}/acl-cert").GetAsync()),
            Call(g => g.GetGrain<IServiceCertificateGrain>($"{Dc}/acl-cert").GetState()),
            Granted: r => Check(r is IssuedCertificateDto { Service: "acl-cert" } c && c.PrivateKeyPEM.Contains("PRIVATE KEY"), "no certificate")),
        ["IServiceCertificateGrain.WaitForNewer"] = new(["acl-newer"],
            Call(g => g.GetGrain<IServiceCertificateGrain>($"{Dc}/acl-newer").WaitForNewerAsync("", TimeSpan.Zero)),
            Call(g => g.GetGrain<IServiceCertificateGrain>($"{Dc}/acl-newer").GetState()),
            Granted: r => Check(r is IssuedCertificateDto { Service: "acl-newer" }, "no certificate")),
        ["ILeafSignerGrain.SignCsr"] = new(["acl-leaf"],
            Call(async g => await g.GetGrain<ILeafSignerGrain>(Dc).SignCsrAsync("acl-leaf", Csr((await Ca(g).GetRootsAsync()).TrustDomain, "acl-leaf"))),
            Granted: r => Check(r is IssuedCertificateDto { Service: "acl-leaf" }, "not signed")),
        ["IDatacenterGrain.GetStatus"] = new([], Call(g => g.GetGrain<IDatacenterGrain>(Dc).GetStatusAsync()),
            Granted: r => Check(r is DatacenterStatusDto { Role: "primary" }, "no status")),
        ["IDatacenterGrain.AdoptPrimaryState"] = new([], Call(g => g.GetGrain<IDatacenterGrain>(Dc).AdoptPrimaryStateAsync()),
            GrantedKind: MeridianErrorKind.Validation),
        ["IDatacenterPingGrain.Ping"] = new([], Call(g => g.GetGrain<IDatacenterPingGrain>(0).PingAsync()),
            Granted: r => Check(r is Dc, $"not answered by {Dc}: {r}")),
        ["IDatacenterRegistryGrain.GetDatacenters"] = new([], Call(g => g.GetGrain<IDatacenterRegistryGrain>(Dc).GetDatacentersAsync()),
            Granted: r => Check(r is DatacenterListDto { AnsweredBy: Dc, Datacenters: [{ Name: Dc, Local: true }, ..] }, $"not this datacenter's list: {r}")),
        ["IDatacenterRegistryGrain.Register"] = new([], Call(g => g.GetGrain<IDatacenterRegistryGrain>(Dc).RegisterAsync(
                new DatacenterEntryDto { Name = "acl-dc", Gateways = ["127.0.0.1:1"] })),
            Call(async g => string.Join(',', (await g.GetGrain<IDatacenterRegistryGrain>(Dc).ListAsync()).Select(e => e.Name))),
            Granted: r => Check(r is ulong and > 0, "no index")),
        ["IDatacenterRegistryGrain.WaitForChanges"] = new([], Call(g => g.GetGrain<IDatacenterRegistryGrain>(Dc).WaitForChangesAsync(0, "", TimeSpan.Zero)),
            Granted: r => Check(r is DatacenterChangesDto { IsSnapshot: true }, $"not a snapshot: {r}")),
        ["IAclStoreGrain.Bootstrap"] = new([], Call(g => Store(g).BootstrapAsync()),
            Granted: r => Check(r is AclTokenDto { SecretID.Length: 36, Policies: [{ Name: "global-management" }] }, $"not a management token: {r}")),
        ["IAclStoreGrain.GetSelf"] = new([], Call(g => Store(g).GetSelfAsync()),
            Granted: r => Check(r is AclTokenDto { AccessorID: AclBuiltins.AnonymousTokenAccessorId, SecretID: AclTokenDto.HiddenSecret }, $"not the anonymous token, redacted: {r}")),
        ["IAclStoreGrain.SetPolicy"] = new([], Call(g => Store(g).SetPolicyAsync(new AclPolicyDto { Name = "acl-new-policy", Rules = "operator = \"read\"" })),
            PolicyNames, Granted: r => Check(r is AclPolicyDto { Name: "acl-new-policy", ModifyIndex: > 0 }, "not written")),
        ["IAclStoreGrain.GetPolicy"] = new([], Call(g => Store(g).GetPolicyAsync(null, "acl-get-policy")),
            Granted: r => Check(r is AclPolicyDto { Name: "acl-get-policy" }, "not the policy")),
        ["IAclStoreGrain.DeletePolicy"] = new([], Call(g => Store(g).DeletePolicyAsync(Seeded["acl-del-policy"])),
            PolicyNames, Granted: r => Check(r is ulong and > 0, "no index")),
        ["IAclStoreGrain.ListPolicies"] = new([], Call(g => Store(g).ListPoliciesAsync()),
            Granted: r => Check(r is ImmutableArray<AclPolicyDto> l && l.Any(p => p.Name == "acl-get-policy"), "no seeded policy")),
        ["IAclStoreGrain.SetRole"] = new([], Call(g => Store(g).SetRoleAsync(new AclRoleDto { Name = "acl-new-role", Policies = [AclLinkDto.ByName("acl-get-policy")] })),
            RoleNames, Granted: r => Check(r is AclRoleDto { Name: "acl-new-role", Policies: [{ Name: "acl-get-policy" }] }, "not written")),
        ["IAclStoreGrain.GetRole"] = new([], Call(g => Store(g).GetRoleAsync(null, "acl-get-role")),
            Granted: r => Check(r is AclRoleDto { Name: "acl-get-role" }, "not the role")),
        ["IAclStoreGrain.DeleteRole"] = new([], Call(g => Store(g).DeleteRoleAsync(Seeded["acl-del-role"])),
            RoleNames, Granted: r => Check(r is ulong and > 0, "no index")),
        ["IAclStoreGrain.ListRoles"] = new([], Call(g => Store(g).ListRolesAsync()),
            Granted: r => Check(r is ImmutableArray<AclRoleDto> l && l.Any(x => x.Name == "acl-get-role"), "no seeded role")),
        ["IAclStoreGrain.CreateToken"] = new([], Call(g => Store(g).CreateTokenAsync(new AclTokenDto { Description = "acl-new-token", Policies = [AclLinkDto.ByName("acl-get-policy")] })),
            TokenDescriptions, Granted: r => Check(r is AclTokenDto { Description: "acl-new-token", SecretID.Length: 36 }, "not created")),
        ["IAclStoreGrain.UpdateToken"] = new([],
            Call(g => Store(g).UpdateTokenAsync(new AclTokenDto { AccessorID = Seeded["acl-update-token"], Description = "acl-updated-token", Policies = [AclLinkDto.ByName("acl-get-policy")] })),
            TokenDescriptions, Granted: r => Check(r is AclTokenDto { Description: "acl-updated-token", SecretID: AclTokenDto.HiddenSecret }, $"not updated, or the secret shown: {r}")),
        ["IAclStoreGrain.GetToken"] = new([], Call(g => Store(g).GetTokenAsync(Seeded["acl-get-token"])),
            Granted: r => Check(r is AclTokenDto { Description: "acl-get-token", SecretID: AclTokenDto.HiddenSecret }, $"not the token, redacted: {r}")),
        ["IAclStoreGrain.DeleteToken"] = new([], Call(g => Store(g).DeleteTokenAsync(Seeded["acl-del-token"])),
            TokenDescriptions, Granted: r => Check(r is ulong and > 0, "no index")),
        ["IAclStoreGrain.WaitForChanges"] = new([], Call(g => Store(g).WaitForChangesAsync(0, "", TimeSpan.Zero)),
            Granted: r => Check(r is AclChangesDto { IsSnapshot: true } c && c.Policies.Any(p => p.Name == "acl-get-policy")
                && c.Tokens.All(t => t.Token.SecretID is "" or AclTokenDto.HiddenSecret), $"not a snapshot with the seeded policy, or a secret shown: {r}")),
        ["IPreparedQueryGrain.Create"] = new(["acl-q-new"], Call(g => Queries(g).CreateAsync(QueryNamed("acl-q-new"))),
            QueryNames, Granted: r => Check(r is string { Length: 36 }, $"no ID: {r}"), GrainRefuses: true),
        ["IPreparedQueryGrain.Update"] = new(["acl-q-upd"], Call(g => Queries(g).UpdateAsync(Seeded["acl-q-upd"], QueryNamed("acl-q-upd", "db2"))),
            QueryNames, Granted: r => Check(r is ulong and > 0, "no index"), GrainRefuses: true),
        ["IPreparedQueryGrain.Delete"] = new(["acl-q-del"], Call(g => Queries(g).DeleteAsync(Seeded["acl-q-del"])),
            QueryNames, Granted: r => Check(r is ulong and > 0, "no index"), GrainRefuses: true),
        ["IPreparedQueryGrain.Get"] = new(["acl-q-get"], Call(g => Queries(g).GetAsync(Seeded["acl-q-get"])),
            Granted: r => Check(r is PreparedQueryDto { Name: "acl-q-get", Token: "<hidden>" }, $"not the query, or its token shown: {JsonSerializer.Serialize(r)}"),
            GrainRefuses: true),
        ["IPreparedQueryGrain.Explain"] = new(["acl-q-explain"], Call(g => Queries(g).ExplainAsync("acl-q-explain")),
            Granted: r => Check(r is PreparedQueryDto { Name: "acl-q-explain", Token: "<hidden>" }, $"not the query, or its token shown: {JsonSerializer.Serialize(r)}"),
            GrainRefuses: true),
        ["IPreparedQueryGrain.List"] = new(["acl-q-list"], Call(g => Queries(g).ListAsync()),
            Granted: r => Check(r is PreparedQueryListDto { FilteredByAcls: true } l && l.Queries.Select(q => (q.Name, q.Token)).SequenceEqual([("acl-q-list", "<hidden>")]),
                $"expected acl-q-list alone, token hidden: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is PreparedQueryListDto { FilteredByAcls: true, Queries.IsEmpty: true }, $"expected nothing, filtered: {JsonSerializer.Serialize(r)}")),
        ["IPreparedQueryGrain.Execute"] = new(["acl-q-exec"], Call(g => Queries(g).ExecuteAsync("acl-q-exec")),
            Granted: r => Check(r is PreparedQueryExecuteResultDto { Nodes.Length: 1, Datacenter: Dc }, $"the instance is not answered: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is PreparedQueryExecuteResultDto { Nodes.Length: 0 }, $"an unreadable instance is answered: {JsonSerializer.Serialize(r)}")),
        ["IPreparedQueryGrain.ExecuteRemote"] = new(["acl-q-exec-remote"],
            Call(g => Queries(g).ExecuteRemoteAsync(QueryNamed("acl-q-exec-remote", "acl-q-exec-remote"))),
            Granted: r => Check(r is PreparedQueryExecuteResultDto { Nodes.Length: 1, Datacenter: Dc, Failovers: 0 }, $"the instance is not answered: {JsonSerializer.Serialize(r)}"),
            Lacking: r => Check(r is PreparedQueryExecuteResultDto { Nodes.Length: 0 }, $"an unreadable instance is answered: {JsonSerializer.Serialize(r)}")),
        ["IAclStoreGrain.ListTokens"] = new([], Call(g => Store(g).ListTokensAsync()),
            Granted: r => Check(r is ImmutableArray<AclTokenDto> l && l.Any(t => t.Description == "acl-get-token") && l.All(t => t.SecretID == AclTokenDto.HiddenSecret),
                "no seeded token, or a secret shown")),
    };

    private static string Csr(string trustDomain, string service)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri($"spiffe://{trustDomain}/ns/default/dc/{Dc}/svc/{service}"));
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    [Fact]
    public void Rows_CoverEveryEnforcedMethod()
    {
        var enforced = AclMethodTable.Methods.Keys.Select(KeyOf).Order();
        Assert.Equal(enforced, Rows.Keys.Order());
    }

    /// <summary>Calls from a client of the gateway with <paramref name="secret"/> (null: no token, the anonymous token).</summary>
    private async Task<(object? Result, Exception? Error)> AsAsync(string? secret, Func<IGrainFactory, Task<object?>> call)
    {
        CallerToken.Set(secret);
        try
        {
            return (await call(fx.Cluster.GatewayClient), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
        finally
        {
            CallerToken.Set(null);
        }
    }

    private async Task<string?> ObserveAsync(Row row) =>
        row.Observe is null ? null : JsonSerializer.Serialize(await row.Observe(fx.Cluster.Client));

    [Fact]
    public async Task EveryMethod_WithItsRule_Allowed_WithoutIt_RefusedNamingThePermission_AndWritesNothing()
    {
        var failures = new List<string>();
        foreach (var (method, requirement) in AclMethodTable.Methods.OrderBy(m => KeyOf(m.Key), StringComparer.Ordinal))
        {
            var key = KeyOf(method);
            var row = Rows[key];
            if (requirement.None)
            {
                var (result, error) = await AsAsync(null, row.Call);
                failures.AddRange(Outcome(key, "anonymous (no token needed)", result, error, row));
                continue;
            }
            var (grants, lacks) = fx.Tokens[key];
            var permission = $"{AclWords.Of(requirement.Resource)}:{AclWords.Of(requirement.Access)}";
            var on = row.Names.Length == 0 ? "" : $" on \"{row.Names[0]}\"";

            foreach (var (who, secret, expected) in new[]
            {
                ("lacking token", lacks.SecretId, $"Permission denied: token with AccessorID '{lacks.AccessorId}' lacks permission '{permission}'{on}"),
                ("anonymous", null, $"Permission denied: anonymous token lacks permission '{permission}'{on}. The anonymous token is used implicitly when a request does not specify a token."),
            })
            {
                var before = await ObserveAsync(row);
                var (result, error) = await AsAsync(secret, row.Call);
                if (requirement.Filtered && !row.GrainRefuses)
                {
                    if (error is not null) failures.Add($"{key}, {who}: filtered answers refuse nothing, got {error.GetType().Name}: {error.Message}");
                    else if (who == "lacking token") failures.AddRange(Checked(key, who, () => row.Lacking!(result)));
                }
                else if (error is not MeridianPermissionDeniedException { Kind: MeridianErrorKind.PermissionDenied } denied)
                    failures.Add($"{key}, {who}: not refused ({error?.GetType().Name ?? "it answered"}: {error?.Message})");
                else if (denied.Message != expected)
                    failures.Add($"{key}, {who}: refusal '{denied.Message}', expected '{expected}'");
                if (await ObserveAsync(row) is var after && after != before)
                    failures.Add($"{key}, {who}: state changed from {before} to {after}");
            }
            var (granted, grantedError) = await AsAsync(grants.SecretId, row.Call);
            failures.AddRange(Outcome(key, "granting token", granted, grantedError, row));
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static IEnumerable<string> Outcome(string key, string who, object? result, Exception? error, Row row)
    {
        if (row.GrantedKind is { } kind)
            return error is MeridianException e && e.Kind == kind ? []
                : [$"{key}, {who}: expected the method's own {kind} error, got {error?.GetType().Name ?? "an answer"}: {error?.Message}"];
        if (error is not null) return [$"{key}, {who}: failed with {error.GetType().Name}: {error.Message}"];
        return row.Granted is null ? [] : Checked(key, who, () => row.Granted(result));
    }

    private static IEnumerable<string> Checked(string key, string who, Action check)
    {
        try
        {
            check();
            return [];
        }
        catch (Exception e)
        {
            return [$"{key}, {who}: {e.Message}"];
        }
    }

    [Fact]
    public async Task Execute_QueryWithCapturedToken_FiltersByThatToken_ElseByTheCaller()
    {
        // Consul's execute: the query's own token decides what the answer shows, whoever calls; without one, the caller's.
        var (with, e1) = await AsAsync(null, Call(g => Queries(g).ExecuteAsync("acl-q-captured-with")));
        Assert.Null(e1);
        Assert.Equal(["acl-q-captured-node"], ((PreparedQueryExecuteResultDto)with!).Nodes.Select(n => n.Node.Node));

        var (without, e2) = await AsAsync(null, Call(g => Queries(g).ExecuteAsync("acl-q-captured-without")));
        Assert.Null(e2);
        Assert.Empty(((PreparedQueryExecuteResultDto)without!).Nodes);

        var (asReader, e3) = await AsAsync(fx.QueryReader.SecretId, Call(g => Queries(g).ExecuteAsync("acl-q-captured-without")));
        Assert.Null(e3);
        Assert.Equal(["acl-q-captured-node"], ((PreparedQueryExecuteResultDto)asReader!).Nodes.Select(n => n.Node.Node));
    }

    [Fact]
    public async Task CatalogRegister_WithNodeWriteButNoServiceWrite_IsRefusedNamingTheService_AndWritesNothing()
    {
        var writer = fx.NodeWriter;
        var request = new CatalogRegisterRequestDto
        {
            Node = "acl-cat-svcw", Address = "10.0.0.7", Service = new NodeServiceDto { Service = "acl-cat-svcw-web", Port = 80 },
        };
        var (_, error) = await AsAsync(writer.SecretId, Call(g => Catalog(g).RegisterAsync(request)));
        var denied = Assert.IsType<MeridianPermissionDeniedException>(error);
        Assert.Equal($"Permission denied: token with AccessorID '{writer.AccessorId}' lacks permission 'service:write' on \"acl-cat-svcw-web\"", denied.Message);
        Assert.Null(await fx.Cluster.Client.GetGrain<ICatalogNodeGrain>($"{Dc}/acl-cat-svcw").GetState());

        // The node alone is the token's to write; its health entry needs service:read too, so it is filtered out.
        var (_, nodeOnly) = await AsAsync(writer.SecretId, Call(g => Catalog(g).RegisterAsync(request with { Service = null })));
        Assert.Null(nodeOnly);
        var (health, _) = await AsAsync(writer.SecretId, Call(g => Catalog(g).GetServiceHealthAsync("acl-cat-health")));
        Assert.Equal((0, true), (((ServiceHealthDto)health!).Instances.Length, ((ServiceHealthDto)health).FilteredByAcls));
    }

    [Fact]
    public async Task CatalogRegister_ReusingAnotherServicesId_NeedsWriteOnTheOldName_AndWritesNothing()
    {
        // Consul: service:write on the name already registered under the ID too, or a token could take over any instance.
        var owner = fx.ServiceOwner;
        var takeover = new CatalogRegisterRequestDto
        {
            Node = "acl-cat-takeover", Address = "10.0.0.1", Service = new NodeServiceDto { ID = "shared-1", Service = "acl-cat-own", Port = 80 },
        };
        var (_, error) = await AsAsync(owner.SecretId, Call(g => Catalog(g).RegisterAsync(takeover)));
        var denied = Assert.IsType<MeridianPermissionDeniedException>(error);
        Assert.Equal($"Permission denied: token with AccessorID '{owner.AccessorId}' lacks permission 'service:write' on \"acl-cat-theirs\"", denied.Message);
        var state = await fx.Cluster.Client.GetGrain<ICatalogNodeGrain>($"{Dc}/acl-cat-takeover").GetState();
        Assert.Equal("acl-cat-theirs", state!.ServiceNames["shared-1"]);

        var (_, own) = await AsAsync(owner.SecretId, Call(g => Catalog(g).RegisterAsync(takeover with { Service = takeover.Service! with { ID = "own-1" } })));
        Assert.Null(own);
    }

    [Fact]
    public async Task UnknownSecret_IsRefused_AclNotFound()
    {
        var (_, error) = await AsAsync(Guid.NewGuid().ToString(), Call(g => Ca(g).GetConfigurationAsync()));
        var denied = Assert.IsType<MeridianPermissionDeniedException>(error);
        Assert.Equal("ACL not found", denied.Message);
    }

    [Fact]
    public async Task CallsFromInsideTheDatacenter_AreNotChecked()
    {
        var before = fx.Acls.Resolutions;
        // The silo's hosted client, without any token: its callers were checked where they entered, or are the silo.
        Assert.Equal("consul", (await Ca(fx.Cluster.Client).GetConfigurationAsync()).Provider);
        Assert.Equal(before, fx.Acls.Resolutions);
    }

    [Fact]
    public async Task MethodsNeedingNoToken_AreNotResolved()
    {
        var before = fx.Acls.Resolutions;
        await AsAsync(null, Call(g => Ca(g).GetRootsAsync()));
        Assert.Equal(before, fx.Acls.Resolutions);
    }

    [Fact]
    public async Task Match_EachRequestedName_NeedsIntentionRead()
    {
        // Consul refuses the whole match (403) when one requested name is not readable, rather than filtering it.
        var (grants, _) = fx.Tokens["IIntentionRegistryGrain.Match"];
        var (_, error) = await AsAsync(grants.SecretId, Call(g => Registry(g).MatchAsync("destination", ["acl-match", "acl-other"])));
        var denied = Assert.IsType<MeridianPermissionDeniedException>(error);
        Assert.EndsWith("lacks permission 'intention:read' on \"acl-other\"", denied.Message);
    }

    [Fact]
    public async Task Get_IntentionReadOnTheSource_Suffices()
    {
        var (_, error) = await AsAsync(fx.Management.SecretId, Call(g => Registry(g).GetAsync(new IntentionRefDto { Source = "acl-get-src", Destination = "acl-get" })));
        Assert.Null(error);
    }

    [Fact]
    public async Task Refusal_IsLoggedAtDebug_WithAccessorIdAndPermission_NeverTheSecret()
    {
        var (_, lacks) = fx.Tokens["ICertificateAuthorityGrain.Rotate"];
        await AsAsync(lacks.SecretId, Call(g => Ca(g).RotateAsync()));
        Assert.True(await fx.Refusals.WaitForAsync(m => m.Contains(lacks.AccessorId) && m.Contains("operator:write"), ClusterFixture.SignalTimeout),
            "no refusal logged: " + string.Join(" | ", fx.Refusals.Messages));
        Assert.DoesNotContain(fx.Refusals.Messages, m => fx.Tokens.Values.Any(t => m.Contains(t.Grants.SecretId) || m.Contains(t.Lacks.SecretId)));
    }

    [Fact]
    public async Task Authorize_FromInsideTheDatacenter_WithAclsOn_GetsTheAclDefault()
    {
        // Not checked, so no caller's authorizer: the datacenter's ACL default (deny here) still decides, never allow.
        var result = await fx.Cluster.Client.GetGrain<IAuthorizerGrain>(Dc).AuthorizeAsync(
            new AuthorizeRequestDto { Target = "acl-authz-3", ClientCertURI = $"spiffe://{Td}/ns/default/dc/{Dc}/svc/web" });
        Assert.Equal(new AuthorizeResultDto(false, "Default behavior configured by ACLs"), result);
    }

    [Fact]
    public async Task Authorize_ManagementToken_DefaultDenyStillDecidesWithoutIntention()
    {
        var (result, error) = await AsAsync(fx.Management.SecretId, Call(g => g.GetGrain<IAuthorizerGrain>(Dc).AuthorizeAsync(
            new AuthorizeRequestDto { Target = "acl-authz-2", ClientCertURI = $"spiffe://{Td}/ns/default/dc/{Dc}/svc/web" })));
        Assert.Null(error);
        Assert.Equal(new AuthorizeResultDto(false, "Default behavior configured by ACLs"), result);
    }
}
