using System.Text.Json;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class QueryCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meridian-query-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string File(string json)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task Create_FromOptions_SendsTheDefinition_PrintsTheId()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "create", "--name", "geo-db", "--service", "db", "--nearest-n", "2",
            "--failover-datacenter", "dc2", "--failover-datacenter", "dc3", "--only-passing", "--tag", "primary", "--tag", "!canary",
            "--node-meta", "rack=r1", "--dns-ttl", "10s", "--query-token", "exec-token", "--connect");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(cli.Client.Query.ID, result.Stdout.Trim());
        var sent = Assert.IsType<PreparedQueryDto>(Assert.Single(cli.Client.Requests));
        Assert.Equal(("geo-db", "db", 2, true, "10s", "exec-token", true),
            (sent.Name, sent.Service.Service, sent.Service.Failover.NearestN, sent.Service.OnlyPassing, sent.DNS.TTL, sent.Token, sent.Service.Connect));
        Assert.Equal(["dc2", "dc3"], sent.Service.Failover.Datacenters.ToArray());
        Assert.Equal(["primary", "!canary"], sent.Service.Tags.ToArray());
        Assert.Equal("r1", sent.Service.NodeMeta["rack"]);
    }

    [Fact]
    public async Task Execute_Json_ConsulAnswerShape_DatacenterAndFailoversAtTheTop()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "execute", "geo-web", "--limit", "3", "--connect", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(("execute", "geo-web", 3, true), Assert.Single(cli.Client.Requests));
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(["Service", "Nodes", "DNS", "Datacenter", "PeerName", "Failovers"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("web", "dc2", 1), (json.RootElement.GetProperty("Service").GetString(), json.RootElement.GetProperty("Datacenter").GetString(),
            json.RootElement.GetProperty("Failovers").GetInt32()));
    }

    [Fact]
    public async Task UpstreamResolve_ServiceWithDatacenter_SendsBoth_PrintsEndpointAndSpiffeId()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("upstream", "resolve", "--service", "web", "--upstream", "db:dc2");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(("resolve", "web", "service", "db", "dc2"), Assert.Single(cli.Client.Requests));
        Assert.Contains("198.51.100.7:8443\tdc2\tspiffe://td.consul/ns/default/dc/dc2/svc/db", result.Stdout);

        var both = await new CliHarness().RunAsync("upstream", "resolve", "--upstream", "db", "--query", "geo-db");
        Assert.Equal(2, both.ExitCode);
    }

    [Fact]
    public async Task Create_FromFile_ConsulFieldNames_OptionsOverride()
    {
        var cli = new CliHarness();
        var path = File("""
            {
              "Name": "geo-",
              "Template": { "Type": "name_prefix_match", "Regexp": "^geo-(.*)$", "RemoveEmptyTags": true },
              "Service": { "Service": "${match(1)}", "Failover": { "NearestN": 1, "Datacenters": ["dc2"] }, "IgnoreCheckIDs": ["maint"], "Near": "_agent" },
              "DNS": { "TTL": "5s" }
            }
            """);
        var result = await cli.RunAsync("query", "create", "--file", path, "--dns-ttl", "30s");
        Assert.Equal(0, result.ExitCode);
        var sent = Assert.IsType<PreparedQueryDto>(Assert.Single(cli.Client.Requests));
        Assert.Equal(("geo-", "name_prefix_match", "^geo-(.*)$", true, "${match(1)}", 1, "_agent", "30s"),
            (sent.Name, sent.Template.Type, sent.Template.Regexp, sent.Template.RemoveEmptyTags, sent.Service.Service,
             sent.Service.Failover.NearestN, sent.Service.Near, sent.DNS.TTL));
        Assert.Equal(["maint"], sent.Service.IgnoreCheckIDs.ToArray());
    }

    [Fact]
    public async Task Create_FileWithTopLevelNear_IsAUsageError()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "create", "--file", File("""{ "Name": "q", "Near": "_agent", "Service": { "Service": "db" } }"""));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--file", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Near", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Client.Requests);
    }

    [Fact]
    public async Task Create_Json_AnswersConsulsIdObject()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "create", "--name", "q", "--service", "db", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(cli.Client.Query.ID, JsonDocument.Parse(result.Stdout).RootElement.GetProperty("ID").GetString());
    }

    [Fact]
    public async Task Get_Json_ArrayOfOneWithConsulFieldNames()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "get", cli.Client.Query.ID, "--json");
        Assert.Equal(0, result.ExitCode);
        var one = Assert.Single(JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray());
        Assert.Equal("10s", one.GetProperty("DNS").GetProperty("TTL").GetString());
        Assert.Equal(2, one.GetProperty("Service").GetProperty("Failover").GetProperty("NearestN").GetInt32());
        Assert.Equal(4UL, one.GetProperty("ModifyIndex").GetUInt64());
        Assert.True(one.GetProperty("Service").TryGetProperty("IgnoreCheckIDs", out _));
    }

    [Fact]
    public async Task Get_Human_ShowsFields()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "get", cli.Client.Query.ID);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Datacenters: dc2, dc3", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Token:       <hidden>", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_Json_QueryObject()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "explain", "geo-db-eu", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("geo-db", JsonDocument.Parse(result.Stdout).RootElement.GetProperty("Query").GetProperty("Name").GetString());
        Assert.Equal(("explain", "geo-db-eu"), Assert.Single(cli.Client.Requests));
    }

    [Fact]
    public async Task List_Human_SaysWhenFiltered_Json_IsAnArray()
    {
        var cli = new CliHarness();
        var human = await cli.RunAsync("query", "list");
        Assert.Contains("geo-db  service=db", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("not shown", human.Stdout, StringComparison.Ordinal);
        var json = await new CliHarness().RunAsync("query", "list", "--json");
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(json.Stdout).RootElement.ValueKind);
    }

    [Fact]
    public async Task Update_WithoutFile_StartsFromTheStoredDefinition()
    {
        var cli = new CliHarness();
        cli.Client.Query = cli.Client.Query with { Token = "" };
        var result = await cli.RunAsync("query", "update", cli.Client.Query.ID, "--service", "db2");
        Assert.Equal(0, result.ExitCode);
        var (id, sent) = Assert.IsType<(string, PreparedQueryDto)>(cli.Client.Requests[^1]);
        Assert.Equal((cli.Client.Query.ID, "geo-db", "db2", 2), (id, sent.Name, sent.Service.Service, sent.Service.Failover.NearestN));
    }

    [Fact]
    public async Task Delete_SendsTheId()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("query", "delete", "abc");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(("delete", "abc"), Assert.Single(cli.Client.Requests));
    }

    [Fact]
    public async Task ServerValidation_ExitTwo_NamesTheOption()
    {
        var cli = new CliHarness();
        cli.Client.Failure = new MeridianValidationException([new ValidationProblemDto("DNS.TTL", "invalid_format", "Invalid prepared query: Bad DNS TTL 'x': time: invalid duration \"x\"")]);
        var result = await cli.RunAsync("query", "create", "--name", "q", "--service", "db", "--dns-ttl", "x");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--dns-ttl: Invalid prepared query: Bad DNS TTL 'x'", result.Stderr, StringComparison.Ordinal);
    }
}
