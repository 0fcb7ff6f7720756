using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Meridian.Client;
using Meridian.Core.Acl;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

/// <summary>One real silo (memory storage, HTTP off) with ACLs on and default deny, bootstrapped through the CLI.</summary>
public sealed class AclSiloFixture : IAsyncLifetime
{
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("meridian-acl-cli-").FullName;
    private IAsyncDisposable? _silo;

    public string Gateway { get; private set; } = "";

    /// <summary>What the fixture's <c>meridian acl bootstrap</c> printed, and its exit code.</summary>
    public CliResult Bootstrap { get; private set; } = new(-1, "", "");

    /// <summary>The SecretID of the bootstrap token.</summary>
    public string ManagementSecret { get; private set; } = "";

    public string Directory => _directory;

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_directory, "acl-hash.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (gatewayPort, siloPort) = TestPorts.FreeRanges(1);
        var plan = DevPlan.Create("dc1", null, gatewayPort, 0, siloPort, null).Silos[0] with
        {
            AclKeyFile = keyFile, AclBootstrapResetFile = Path.Combine(_directory, "acl-bootstrap-reset"),
        };
        _silo = await new WebApplicationSiloLauncher(new CapturingLoggerProvider()).StartAsync(plan, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
        Gateway = plan.Gateway;
        Bootstrap = await RunAsync(null, "acl", "bootstrap");
        ManagementSecret = Regex.Match(Bootstrap.Stdout, @"^SecretID:\s+(\S+)$", RegexOptions.Multiline).Groups[1].Value;
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs the real CLI against the silo; <paramref name="environment"/> is the only environment it sees.</summary>
    public async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new FakeSiloLauncher(),
            name => environment?.GetValueOrDefault(name)) { ConnectTimeout = TimeSpan.FromSeconds(20) };
        var code = await MeridianCli.RunAsync([.. args, "--gateway", Gateway], context).WaitAsync(TimeSpan.FromSeconds(60));
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the CLI with the management token.</summary>
    public Task<CliResult> AsManagementAsync(params string[] args) => RunAsync(null, [.. args, "--token", ManagementSecret]);
}

[CollectionDefinition(Name)]
public sealed class AclSiloCollection : ICollectionFixture<AclSiloFixture>
{
    public const string Name = "AclSilo";
}

[Collection(AclSiloCollection.Name), Trait("Category", "Cluster")]
public sealed class AclCommandTests(AclSiloFixture fx)
{
    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static string Field(CliResult result, string label)
        => Regex.Match(result.Stdout, $"^{Regex.Escape(label)}:\\s+(.*)$", RegexOptions.Multiline).Groups[1].Value.Trim();

    private static void Ok(CliResult result) => Assert.True(result.ExitCode == ExitCodes.Ok, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");

    [Fact]
    public async Task Bootstrap_PrintsTheManagementTokenOnce_SecondIsPermissionDeniedWithResetIndex()
    {
        Ok(fx.Bootstrap);
        Assert.True(Guid.TryParse(fx.ManagementSecret, out _), fx.Bootstrap.Stdout);
        Assert.Equal("Bootstrap Token (Global Management)", Field(fx.Bootstrap, "Description"));
        Assert.Equal("false", Field(fx.Bootstrap, "Local"));
        Assert.Contains($"   {AclBuiltins.GlobalManagementPolicyId} - global-management", fx.Bootstrap.Stdout, StringComparison.Ordinal);

        var again = await fx.RunAsync(null, "acl", "bootstrap");
        Assert.Equal(ExitCodes.PermissionDenied, again.ExitCode);
        Assert.Matches(@"^meridian: Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)$", again.Stderr.Trim());
    }

    [Fact]
    public async Task Policy_CreateFromFileReadUpdateListDelete()
    {
        var name = Fresh("web-read");
        var rules = Path.Combine(fx.Directory, $"{name}.hcl");
        await File.WriteAllTextAsync(rules, "service \"web\" {\n  policy = \"read\"\n}\n");

        var created = await fx.AsManagementAsync("acl", "policy", "create", "--name", name, "--description", "reads web",
            "--rules", $"@{rules}", "--valid-datacenter", "dc1");
        Ok(created);
        var id = Field(created, "ID");
        Assert.Equal((name, "reads web", "dc1"), (Field(created, "Name"), Field(created, "Description"), Field(created, "Datacenters")));
        Assert.Contains("Rules:\nservice \"web\" {\n  policy = \"read\"\n}", created.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var read = await fx.AsManagementAsync("acl", "policy", "read", "--name", name);
        Ok(read);
        Assert.Equal(id, Field(read, "ID"));

        var updated = await fx.AsManagementAsync("acl", "policy", "update", "--id", id, "--rules", "service \"web\" { policy = \"write\" }");
        Ok(updated);
        Assert.Contains("policy = \"write\"", updated.Stdout, StringComparison.Ordinal);
        Assert.Equal("reads web", Field(updated, "Description")); // not given: kept

        var list = await fx.AsManagementAsync("acl", "policy", "list");
        Ok(list);
        Assert.Contains($"{name}:", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("global-management:", list.Stdout, StringComparison.Ordinal);

        Ok(await fx.AsManagementAsync("acl", "policy", "delete", "--name", name));
        var gone = await fx.AsManagementAsync("acl", "policy", "read", "--id", id);
        Assert.Equal(ExitCodes.NotFound, gone.ExitCode);
    }

    [Fact]
    public async Task Policy_BadRules_Exit2NamingTheOption_NothingWritten()
    {
        var name = Fresh("bad");
        var result = await fx.AsManagementAsync("acl", "policy", "create", "--name", name, "--rules", "service \"web\" { policy = \"wirte\" }");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("--rules: Invalid service policy", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await fx.AsManagementAsync("acl", "policy", "read", "--name", name)).ExitCode);
    }

    [Fact]
    public async Task Token_CreateWithLinksAndIdentities_SecretShownOnce_ReadRedacted_ReadSelfFromTokenFile()
    {
        var policy = Fresh("p");
        Ok(await fx.AsManagementAsync("acl", "policy", "create", "--name", policy, "--rules", "operator = \"read\""));
        var role = Fresh("r");
        var createdRole = await fx.AsManagementAsync("acl", "role", "create", "--name", role, "--policy-name", policy, "--service-identity", "api");
        Ok(createdRole);
        Assert.Contains("   api (Datacenters: all)", createdRole.Stdout, StringComparison.Ordinal);

        var created = await fx.AsManagementAsync("acl", "token", "create", "--description", "web token", "--policy-name", policy,
            "--role-name", role, "--service-identity", "web:dc1,dc2", "--local", "--expires-ttl", "8h");
        Ok(created);
        var (accessor, secret) = (Field(created, "AccessorID"), Field(created, "SecretID"));
        Assert.True(Guid.TryParse(secret, out _), created.Stdout);
        Assert.Equal(("web token", "true"), (Field(created, "Description"), Field(created, "Local")));
        Assert.NotEqual("", Field(created, "Create Time"));
        Assert.NotEqual("", Field(created, "Expiration Time"));
        Assert.Contains($" - {policy}", created.Stdout, StringComparison.Ordinal);
        Assert.Contains($" - {role}", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("   web (Datacenters: dc1, dc2)", created.Stdout, StringComparison.Ordinal);

        var read = await fx.AsManagementAsync("acl", "token", "read", "--id", accessor);
        Ok(read);
        Assert.Equal("<hidden>", Field(read, "SecretID"));
        Assert.DoesNotContain(secret, read.Stdout, StringComparison.Ordinal);
        var list = await fx.AsManagementAsync("acl", "token", "list");
        Ok(list);
        Assert.Contains(accessor, list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Stdout, StringComparison.Ordinal);

        var tokenFile = Path.Combine(fx.Directory, $"{accessor}.token");
        await File.WriteAllTextAsync(tokenFile, secret + "\n");
        var self = await fx.RunAsync(null, "acl", "token", "read-self", "--token-file", tokenFile);
        Ok(self);
        Assert.Equal(accessor, Field(self, "AccessorID"));
        var fromEnvironment = await fx.RunAsync(new Dictionary<string, string> { ["MERIDIAN_TOKEN"] = secret }, "acl", "token", "read-self");
        Ok(fromEnvironment);
        Assert.Equal(accessor, Field(fromEnvironment, "AccessorID"));

        var updated = await fx.AsManagementAsync("acl", "token", "update", "--id", accessor, "--description", "renamed", "--policy-name", policy);
        Ok(updated);
        Assert.Equal("renamed", Field(updated, "Description"));
        Assert.Contains($" - {role}", updated.Stdout, StringComparison.Ordinal); // roles not given: kept

        Ok(await fx.AsManagementAsync("acl", "token", "delete", "--id", accessor));
        var deleted = await fx.RunAsync(null, "acl", "token", "read-self", "--token", secret);
        Assert.Equal(ExitCodes.PermissionDenied, deleted.ExitCode);
        Assert.Equal("meridian: ACL not found", deleted.Stderr.Trim());
    }

    [Fact]
    public async Task Token_CreateReplication_LinksTheDocumentedPolicy_CreatedOnce()
    {
        var first = await fx.AsManagementAsync("acl", "token", "create", "--replication");
        Ok(first);
        Assert.Equal("Replication Token", Field(first, "Description"));
        Assert.Contains(" - replication", first.Stdout, StringComparison.Ordinal);
        var second = await fx.AsManagementAsync("acl", "token", "create", "--replication", "--description", "dc2 replication");
        Ok(second);
        Assert.Contains(" - replication", second.Stdout, StringComparison.Ordinal);

        var policy = await fx.AsManagementAsync("acl", "policy", "read", "--name", "replication");
        Ok(policy);
        Assert.Contains(AclBuiltins.ReplicationPolicyRules.ReplaceLineEndings("\n"), policy.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenFile_Missing_Exit2NamingTheOption()
    {
        var result = await fx.RunAsync(null, "acl", "token", "read-self", "--token-file", Path.Combine(fx.Directory, "nope"));
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("--token-file: cannot read", result.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_TokenSetForOneCallOnly_CallersValueRestored()
    {
        var settings = new ConnectionSettings([fx.Gateway], "dc1", fx.ManagementSecret, TimeSpan.FromSeconds(20));
        await using var connection = await new HostedMeridianClientFactory().ConnectAsync(settings, CancellationToken.None);
        var client = connection.Client;
        var management = await client.GetAclTokenSelfAsync();
        Assert.Equal("Bootstrap Token (Global Management)", management.Description);

        CallerToken.Set("outer-token");
        try
        {
            // The client's own token is sent, not the caller's ambient one, and the caller's value is back after.
            Assert.Equal(management.AccessorID, (await client.GetAclTokenSelfAsync()).AccessorID);
            Assert.Equal("outer-token", CallerToken.Current);
            // A client without a token sends none: the ambient value does not ride along.
            Assert.Equal(AclBuiltins.AnonymousTokenAccessorId, (await client.WithToken(null).GetAclTokenSelfAsync()).AccessorID);
            Assert.Equal("outer-token", CallerToken.Current);
        }
        finally
        {
            CallerToken.Set(null);
        }
    }
}
