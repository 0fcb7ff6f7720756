using System.Text.Json;

namespace Meridian.Cli.Tests;

/// <summary>
/// <c>meridian catalog</c>, <c>health service</c> and <c>check</c> against a real silo with ACLs on (default deny):
/// Consul's JSON shapes, check lookup by ID, Consul's texts, and what a token without rules sees.
/// </summary>
[Collection(AclSiloCollection.Name), Trait("Category", "Cluster")]
public sealed class CatalogCommandTests(AclSiloFixture fx)
{
    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static void Ok(CliResult result) => Assert.True(result.ExitCode == ExitCodes.Ok, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");

    private static JsonElement Json(CliResult result)
    {
        Ok(result);
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    private Task<CliResult> RegisterAsync(string node, string service, string checkId, params string[] more) =>
        fx.AsManagementAsync(["catalog", "register", "--node", node, "--address", "10.0.0.1", "--service", service, "--port", "8080",
            "--tag", "v1", "--check-id", checkId, .. more, "--json"]);

    [Fact]
    public async Task Register_TtlCheck_HealthShowsConsulsShape_CheckFailWithoutNode_DropsItFromPassing()
    {
        var (node, web, check) = (Fresh("n"), Fresh("web"), Fresh("ttl"));
        Assert.True(Json(await RegisterAsync(node, web, check, "--check-ttl", "30s", "--check-status", "passing")).GetProperty("Index").GetUInt64() > 0);

        var entry = Json(await fx.AsManagementAsync("health", "service", web, "--passing", "--json")).EnumerateArray().Single();
        Assert.Equal(node, entry.GetProperty("Node").GetProperty("Node").GetString());
        Assert.Equal("dc1", entry.GetProperty("Node").GetProperty("Datacenter").GetString());
        Assert.Equal(web, entry.GetProperty("Service").GetProperty("Service").GetString());
        Assert.Equal(8080, entry.GetProperty("Service").GetProperty("Port").GetInt32());
        Assert.Equal("v1", entry.GetProperty("Service").GetProperty("Tags")[0].GetString());
        var c = entry.GetProperty("Checks")[0];
        Assert.Equal((check, "passing", "ttl", web), (c.GetProperty("CheckID").GetString(), c.GetProperty("Status").GetString(),
            c.GetProperty("Type").GetString(), c.GetProperty("ServiceID").GetString()));

        var failed = Json(await fx.AsManagementAsync("check", "fail", check, "--note", "disk full", "--json"));
        Assert.Equal(("critical", "disk full", node), (failed.GetProperty("Status").GetString(), failed.GetProperty("Output").GetString(), failed.GetProperty("Node").GetString()));
        Assert.Equal(0, Json(await fx.AsManagementAsync("health", "service", web, "--passing", "--json")).GetArrayLength());
        Assert.Equal(1, Json(await fx.AsManagementAsync("health", "service", web, "--json")).GetArrayLength());
    }

    [Fact]
    public async Task Check_IdOnTwoNodes_WithoutNode_IsAmbiguous_WithNode_Works()
    {
        var (a, b, web, check) = (Fresh("a"), Fresh("b"), Fresh("web"), Fresh("chk"));
        Ok(await RegisterAsync(a, web, check));
        Ok(await RegisterAsync(b, web, check));

        var ambiguous = await fx.AsManagementAsync("check", "pass", check);
        Assert.Equal(ExitCodes.BadInput, ambiguous.ExitCode);
        Assert.Contains($"Check ID '{check}' is on 2 nodes", ambiguous.Stderr);
        Assert.Contains("--node", ambiguous.Stderr);

        var warned = Json(await fx.AsManagementAsync("check", "warn", check, "--node", b, "--json"));
        Assert.Equal(("warning", b), (warned.GetProperty("Status").GetString(), warned.GetProperty("Node").GetString()));

        var unknown = await fx.AsManagementAsync("check", "pass", Fresh("none"));
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("Unknown check ID", unknown.Stderr);
    }

    [Fact]
    public async Task Lists_UseConsulsShapes()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        Ok(await RegisterAsync(node, web, Fresh("chk")));

        var services = Json(await fx.AsManagementAsync("catalog", "services", "--json"));
        Assert.Equal("v1", services.GetProperty(web)[0].GetString()); // {"name": ["tag"]}
        var nodes = Json(await fx.AsManagementAsync("catalog", "nodes", "--json"));
        Assert.Contains(nodes.EnumerateArray(), n => n.GetProperty("Node").GetString() == node && n.GetProperty("Address").GetString() == "10.0.0.1");
        var instance = Json(await fx.AsManagementAsync("catalog", "service", web, "--json")).EnumerateArray().Single();
        Assert.Equal((node, web, web, 8080), (instance.GetProperty("Node").GetString(), instance.GetProperty("ServiceName").GetString(),
            instance.GetProperty("ServiceID").GetString(), instance.GetProperty("ServicePort").GetInt32()));
        Assert.Equal("v1", instance.GetProperty("ServiceTags")[0].GetString());

        var human = await fx.AsManagementAsync("health", "service", web);
        Ok(human);
        Assert.Contains($"{node}\t{web}\t10.0.0.1:8080\tcritical", human.Stdout);
    }

    [Fact]
    public async Task Invalid_AnswersConsulsTexts_NamingTheOption()
    {
        var node = Fresh("n");
        var noAddress = await fx.AsManagementAsync("catalog", "register", "--node", node);
        Assert.Equal(ExitCodes.BadInput, noAddress.ExitCode);
        Assert.Contains("--address: Must provide address if SkipNodeUpdate is not set", noAddress.Stderr);

        var badStatus = await fx.AsManagementAsync("catalog", "register", "--node", node, "--address", "10.0.0.1", "--check-id", "c", "--check-status", "up");
        Assert.Contains("--check-status: Status for checks must 'passing', 'warning', 'critical'", badStatus.Stderr);

        Ok(await fx.AsManagementAsync("catalog", "register", "--node", node, "--address", "10.0.0.1"));
        var unknown = await fx.AsManagementAsync("catalog", "deregister", "--node", node, "--service-id", "nope");
        Assert.Contains("Unknown service ID 'nope'", unknown.Stderr);
        Ok(await fx.AsManagementAsync("catalog", "deregister", "--node", node));
        Assert.DoesNotContain(Json(await fx.AsManagementAsync("catalog", "nodes", "--json")).EnumerateArray(), n => n.GetProperty("Node").GetString() == node);

        var noPath = await fx.AsManagementAsync("health", "service", "web", "--dc", "dc9");
        Assert.Contains("No path to datacenter", noPath.Stderr);
    }

    [Fact]
    public async Task WithoutToken_DefaultDeny_ListsNothing_AndMayNotRegister()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        Ok(await RegisterAsync(node, web, Fresh("chk")));

        Assert.Empty(Json(await fx.RunAsync(null, "catalog", "services", "--json")).EnumerateObject());
        Assert.Equal(0, Json(await fx.RunAsync(null, "health", "service", web, "--json")).GetArrayLength());
        var refused = await fx.RunAsync(null, "catalog", "register", "--node", Fresh("n"), "--address", "10.0.0.2");
        Assert.Equal(ExitCodes.PermissionDenied, refused.ExitCode);
        Assert.Contains("lacks permission 'node:write'", refused.Stderr);
    }
}
