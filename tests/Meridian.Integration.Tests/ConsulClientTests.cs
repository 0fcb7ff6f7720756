using System.Net;
using System.Text;
using System.Text.Json;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>One <c>meridian dev --datacenters dc1,dc2</c> process for <see cref="ConsulClientTests"/>.</summary>
public sealed class ConsulApiFederationFixture : IAsyncLifetime
{
    private DevProcess? _dev;

    public DevProcess Dev => _dev ?? throw new InvalidOperationException("not initialized");

    /// <summary>A datacenter's HTTP address, <c>127.0.0.1:PORT</c>.</summary>
    public string Http(string datacenter) => new Uri(Dev.HttpBases[datacenter]).Authority;

    public async Task InitializeAsync() => _dev = (await DevProcess.StartFederatedAsync(["dc1", "dc2"], "dc1")).Dev;

    public async Task DisposeAsync()
    {
        if (_dev is not null) await _dev.DisposeAsync();
    }
}

/// <summary>One <c>meridian dev --acl</c> process (default deny) for <see cref="ConsulClientAclTests"/>.</summary>
public sealed class ConsulApiAclFixture : IAsyncLifetime
{
    private DevProcess? _dev;

    public DevProcess Dev => _dev ?? throw new InvalidOperationException("not initialized");

    public string Http => $"127.0.0.1:{Dev.HttpPort}";

    public async Task InitializeAsync() => _dev = await DevProcess.StartAsync(acl: true);

    public async Task DisposeAsync()
    {
        if (_dev is not null) await _dev.DisposeAsync();
    }
}

/// <summary>
/// Consul's HTTP API served by every silo of <c>meridian dev</c>, driven by real Consul clients (python-consul2,
/// python-consul 0.7.1, node-consul) and by plain HTTP for what no client sends (bad input).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ConsulClientTests(ConsulApiFederationFixture fx) : IClassFixture<ConsulApiFederationFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(1) };
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    private Dictionary<string, string> Environment() => new()
    {
        ["MERIDIAN_HTTP"] = fx.Http("dc1"),
        ["MERIDIAN_HTTP_DC2"] = fx.Http("dc2"),
        ["RUN_ID"] = _id,
    };

    private string Url(string path, string dc = "dc1") => $"http://{fx.Http(dc)}{path}";

    private static void AssertAllOk(CommandResult result)
    {
        Assert.True(result.ExitCode == 0 && result.Stdout.Contains("ALL OK", StringComparison.Ordinal), result.ToString());
    }

    [Fact]
    public async Task PythonConsul2_ConnectIntentionsCatalogHealthAgentQueries_AnswerAsConsul()
        => AssertAllOk(await ConsulClients.PythonConsul2Async("python_consul2_test.py", Environment()));

    [Fact]
    public async Task PythonConsul071_CatalogHealthAgentQueries_AnswerAsConsul()
        => AssertAllOk(await ConsulClients.PythonConsulAsync("python_consul_test.py", Environment()));

    [Fact]
    public async Task NodeConsul_CatalogHealthAgentQueryStatus_AndAWatchSeesTheChange()
        => AssertAllOk(await ConsulClients.NodeConsulAsync("node_consul_test.js", Environment()));

    [Fact]
    public async Task MeridianAgent_ServesTheApiThroughItsConnection_ToPythonConsulAndNodeConsul()
    {
        var port = FreePorts.Take(1)[0];
        await using var agent = ChildProcess.StartDotnet(Binaries.Cli, ["--gateway", fx.Dev.Gateway, "agent", "--http", $"127.0.0.1:{port}"]);
        var ready = await agent.WaitForLineAsync(l => l.StartsWith("meridian agent: ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Contains($"http://127.0.0.1:{port} for dc1", ready);
        var environment = new Dictionary<string, string>(Environment()) { ["MERIDIAN_HTTP"] = $"127.0.0.1:{port}" };
        AssertAllOk(await ConsulClients.PythonConsulAsync("python_consul_test.py", environment));
        AssertAllOk(await ConsulClients.NodeConsulAsync("node_consul_test.js", new Dictionary<string, string>(environment) { ["RUN_ID"] = _id + "n" }));
    }

    [Fact]
    public async Task WrongMethod_Answers405WithConsulsTextAndAllow()
    {
        using var response = await Http.PutAsync(Url("/v1/agent/connect/authorize"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("method PUT not allowed", await response.Content.ReadAsStringAsync());
        Assert.Equal("OPTIONS, POST", string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownPath_Answers404WithConsulsText()
    {
        using var response = await Http.GetAsync(Url("/v1/no/such/endpoint"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Invalid URL path: not a recognized HTTP API endpoint\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MalformedJson_Answers400AndWritesNothing()
    {
        var before = await IntentionCountAsync();
        using var response = await Http.PostAsync(Url("/v1/connect/intentions"), new StringContent("{\"SourceName\": \"web-" + _id + "\", "));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Request decode failed: ", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await IntentionCountAsync());
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task HugeBody_Answers413AndWritesNothing()
    {
        var before = await IntentionCountAsync();
        var huge = "{\"SourceName\": \"web-" + _id + "\", \"DestinationName\": \"db\", \"Action\": \"allow\", \"Description\": \"" + new string('x', 2 << 20) + "\"}";
        using var response = await Http.PostAsync(Url("/v1/connect/intentions"), new StringContent(huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("too large", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await IntentionCountAsync());
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task ValidationByTheDatacenter_Answers500WithTheProblem_AsConsul()
    {
        var before = await IntentionCountAsync();
        using var response = await Http.PostAsync(Url("/v1/connect/intentions"), new StringContent("{\"SourceName\": \"web*\", \"DestinationName\": \"db-" + _id + "\", \"Action\": \"allow\"}"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(await response.Content.ReadAsStringAsync()));
        Assert.Equal(before, await IntentionCountAsync());
    }

    [Fact]
    public async Task UnknownDatacenter_Answers500NoPathToDatacenter()
    {
        using var response = await Http.GetAsync(Url("/v1/health/service/web?dc=nowhere"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("No path to datacenter", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BadBlockingParameters_Answer400()
    {
        using var index = await Http.GetAsync(Url("/v1/catalog/service/web?index=abc"));
        Assert.Equal((HttpStatusCode.BadRequest, "Invalid index"), (index.StatusCode, await index.Content.ReadAsStringAsync()));
        using var wait = await Http.GetAsync(Url("/v1/catalog/service/web?index=1&wait=soon"));
        Assert.Equal((HttpStatusCode.BadRequest, "Invalid wait time"), (wait.StatusCode, await wait.Content.ReadAsStringAsync()));
        using var pem = await Http.GetAsync(Url("/v1/connect/ca/roots?pem=maybe"));
        Assert.Equal((HttpStatusCode.BadRequest, "The 'pem' query parameter must be a boolean value"), (pem.StatusCode, await pem.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task BlockingHealthQuery_ReturnsWhenTheServiceChanges_WithAGreaterIndex()
    {
        var service = $"blk-{_id}";
        await PutAsync("/v1/catalog/register", new { Node = $"n-{_id}", Address = "10.0.0.1", Service = new { Service = service, ID = service + "-1", Port = 1 } });
        using var first = await Http.GetAsync(Url($"/v1/health/service/{service}"));
        var index = ulong.Parse(first.Headers.GetValues("X-Consul-Index").Single());
        Assert.True(index >= 1);
        Assert.Equal("true", first.Headers.GetValues("X-Consul-KnownLeader").Single());
        var blocked = Http.GetAsync(Url($"/v1/health/service/{service}?index={index}&wait=50s"));
        await PutAsync("/v1/catalog/register", new { Node = $"n-{_id}", Address = "10.0.0.1", Service = new { Service = service, ID = service + "-2", Port = 2 } });
        using var changed = await blocked;
        Assert.True(ulong.Parse(changed.Headers.GetValues("X-Consul-Index").Single()) > index);
        Assert.Equal(2, JsonDocument.Parse(await changed.Content.ReadAsStringAsync()).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task BlockingIntentionList_ReturnsWhenAnIntentionIsWritten()
    {
        using var first = await Http.GetAsync(Url("/v1/connect/intentions"));
        var index = ulong.Parse(first.Headers.GetValues("X-Consul-Index").Single());
        var blocked = Http.GetAsync(Url($"/v1/connect/intentions?index={index}&wait=50s"));
        await PutAsync($"/v1/connect/intentions/exact?source=web-{_id}&destination=db-{_id}", new { Action = "allow" });
        using var changed = await blocked;
        Assert.True(ulong.Parse(changed.Headers.GetValues("X-Consul-Index").Single()) > index);
        Assert.Contains($"\"db-{_id}\"", await changed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ServiceIntentionsConfigEntry_PutGetListDelete_OverTheDestinationsIntentions()
    {
        var db = $"db-{_id}";
        await PutAsync("/v1/config", new { Kind = "service-intentions", Name = db, Sources = new object[] { new { Name = "web", Action = "allow" }, new { Name = "*", Action = "deny" } } });
        var entry = JsonDocument.Parse(await Http.GetStringAsync(Url($"/v1/config/service-intentions/{db}"))).RootElement;
        Assert.Equal(["web:allow", "*:deny"], entry.GetProperty("Sources").EnumerateArray().Select(x => $"{x.GetProperty("Name").GetString()}:{x.GetProperty("Action").GetString()}"));
        // A source the entry no longer lists is deleted; snake/lower-case keys bind.
        using (var put = await Http.PutAsync(Url("/v1/config"), new StringContent($"{{\"kind\": \"service-intentions\", \"name\": \"{db}\", \"sources\": [{{\"name\": \"web\", \"action\": \"deny\"}}]}}")))
            Assert.Equal("true", await put.Content.ReadAsStringAsync());
        Assert.Contains($"\"Name\":\"{db}\"", await Http.GetStringAsync(Url("/v1/config/service-intentions")));
        var check = JsonDocument.Parse(await Http.GetStringAsync(Url($"/v1/connect/intentions/check?source=api&destination={db}"))).RootElement;
        Assert.True(check.GetProperty("Allowed").GetBoolean()); // the wildcard deny is gone
        using var delete = await Http.DeleteAsync(Url($"/v1/config/service-intentions/{db}"));
        Assert.Equal("{}", await delete.Content.ReadAsStringAsync());
        using var gone = await Http.GetAsync(Url($"/v1/config/service-intentions/{db}"));
        Assert.Equal((HttpStatusCode.NotFound, $"Config entry not found for \"service-intentions\" / \"{db}\""), (gone.StatusCode, await gone.Content.ReadAsStringAsync()));
        using var noKind = await Http.PutAsync(Url("/v1/config"), new StringContent("{\"Name\": \"x\"}"));
        Assert.Equal((HttpStatusCode.BadRequest, "Request decoding failed: Payload does not contain a kind/Kind key at the top level"), (noKind.StatusCode, await noKind.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task CaRootsPem_IsTheChainAsPem_AndPrettyIsIndented()
    {
        using var pem = await Http.GetAsync(Url("/v1/connect/ca/roots?pem=true"));
        Assert.Equal("application/pem-certificate-chain", pem.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", await pem.Content.ReadAsStringAsync());
        var pretty = await Http.GetStringAsync(Url("/v1/agent/self?pretty"));
        Assert.Contains("\n    \"Config\": {", pretty);
        Assert.EndsWith("}\n", pretty);
    }

    private async Task PutAsync(string path, object body)
    {
        using var response = await Http.PutAsync(Url(path), new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<int> IntentionCountAsync()
        => JsonDocument.Parse(await Http.GetStringAsync(Url("/v1/connect/intentions"))).RootElement.GetArrayLength();

    private async Task AssertHealthyAsync()
    {
        using var health = await Http.GetAsync(Url("/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}

/// <summary>Consul's HTTP API with ACLs on (default deny), driven by python-consul2 and plain HTTP.</summary>
[Trait("Category", "EndToEnd")]
public sealed class ConsulClientAclTests(ConsulApiAclFixture fx) : IClassFixture<ConsulApiAclFixture>
{
    private static readonly HttpClient Http = new();
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task PythonConsul2_BootstrapPoliciesTokensRoles_AndEveryCallChecksTheToken()
    {
        var result = await ConsulClients.PythonConsul2Async("python_consul2_acl_test.py", new Dictionary<string, string>
        {
            ["MERIDIAN_HTTP"] = fx.Http,
            ["MERIDIAN_TOKEN"] = fx.Dev.ManagementToken,
            ["RUN_ID"] = _id,
        });
        Assert.True(result.ExitCode == 0 && result.Stdout.Contains("ALL OK", StringComparison.Ordinal), result.ToString());
    }

    [Fact]
    public async Task UnknownToken_Answers403AclNotFound_AndWritesNothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"http://{fx.Http}/v1/catalog/register")
        {
            Content = new StringContent($"{{\"Node\": \"n-{_id}\", \"Address\": \"10.0.0.1\"}}"),
        };
        request.Headers.Add("X-Consul-Token", Guid.NewGuid().ToString());
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("ACL not found", await response.Content.ReadAsStringAsync());

        using var read = new HttpRequestMessage(HttpMethod.Get, $"http://{fx.Http}/v1/catalog/nodes");
        read.Headers.Add("X-Consul-Token", fx.Dev.ManagementToken);
        using var nodes = await Http.SendAsync(read);
        Assert.DoesNotContain($"n-{_id}", await nodes.Content.ReadAsStringAsync());
        Assert.Equal("deny", nodes.Headers.GetValues("X-Consul-Default-ACL-Policy").Single());
    }
}
