using System.Text.Json;

namespace Meridian.Cli.Tests;

/// <summary>
/// <c>meridian query</c> end to end against a real silo with ACLs on (default deny): the SDK, the gateway, the ACL
/// filter and the store grain.
/// </summary>
[Collection(AclSiloCollection.Name), Trait("Category", "Cluster")]
public sealed class QueryAclCommandTests(AclSiloFixture fx)
{
    private static void Ok(CliResult result) => Assert.True(result.ExitCode == ExitCodes.Ok, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");

    [Fact]
    public async Task Management_CreatesReadsAndDeletes_AnonymousSeesNothingAndIsRefused()
    {
        var name = $"geo-{Guid.NewGuid():N}";
        var created = await fx.AsManagementAsync("query", "create", "--name", name, "--service", "db", "--nearest-n", "1",
            "--query-token", "9d1e6a2c-exec-token", "--json");
        Ok(created);
        var id = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("ID").GetString()!;

        // acl:write (the management token) sees the captured token.
        var got = await fx.AsManagementAsync("query", "get", id, "--json");
        Ok(got);
        var one = Assert.Single(JsonDocument.Parse(got.Stdout).RootElement.EnumerateArray());
        Assert.Equal((name, "9d1e6a2c-exec-token"), (one.GetProperty("Name").GetString(), one.GetProperty("Token").GetString()));

        // The anonymous token (default deny): the list leaves it out, a get is refused naming query:read.
        var list = await fx.RunAsync(null, "query", "list", "--json");
        Ok(list);
        Assert.DoesNotContain(JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray(), q => q.GetProperty("ID").GetString() == id);
        var refused = await fx.RunAsync(null, "query", "get", id);
        Assert.Equal(ExitCodes.PermissionDenied, refused.ExitCode);
        Assert.Contains($"lacks permission 'query:read' on \"{name}\"", refused.Stderr, StringComparison.Ordinal);
        var write = await fx.RunAsync(null, "query", "delete", id);
        Assert.Equal(ExitCodes.PermissionDenied, write.ExitCode);
        Assert.Contains($"lacks permission 'query:write' on \"{name}\"", write.Stderr, StringComparison.Ordinal);

        Ok(await fx.AsManagementAsync("query", "delete", id));
        var gone = await fx.AsManagementAsync("query", "get", id);
        Assert.Equal(ExitCodes.NotFound, gone.ExitCode);
        Assert.Contains("Query not found", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_InvalidDefinition_ExitTwo_ConsulTexts()
    {
        var result = await fx.AsManagementAsync("query", "create", "--name", $"bad-{Guid.NewGuid():N}", "--nearest-n", "-1");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--service: Invalid prepared query: Must provide a Service name to query", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--nearest-n: Invalid prepared query: Bad NearestN '-1', must be >= 0", result.Stderr, StringComparison.Ordinal);
    }
}
