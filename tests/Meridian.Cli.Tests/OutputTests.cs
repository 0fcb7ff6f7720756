using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class OutputTests
{
    [Fact]
    public async Task IntentionCheck_Json_IsConsulsAllowedObject()
    {
        var cli = new CliHarness();
        cli.Client.Allowed = false;
        var result = await cli.RunAsync("intention", "check", "--source", "web", "--destination", "team/db", "--json");
        Assert.Equal(ExitCodes.Denied, result.ExitCode);
        var json = JsonFields.Parse(result.Stdout);
        Assert.Equal(["Allowed"], JsonFields.Names(json));
        Assert.False(json.GetProperty("Allowed").GetBoolean());
        Assert.Equal(("web", "team/db"), cli.Client.Last<(string, string)>());
    }

    [Theory]
    [InlineData(true, 0, "allowed")]
    [InlineData(false, 2, "denied")]
    public async Task IntentionCheck_ExitCodeIsConsuls_ZeroAllowedTwoDenied(bool allowed, int exitCode, string printed)
    {
        var cli = new CliHarness();
        cli.Client.Allowed = allowed;
        var result = await cli.RunAsync("intention", "check", "--source", "web", "--destination", "db");
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Equal(printed, result.Stdout.Trim());
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Authorize_Json_HasAuthorizedAndReason()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("authorize", "--target", "db", "--client-cert-uri", "spiffe://td/ns/default/dc/dc1/svc/web", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(["Authorized", "Reason"], JsonFields.Names(JsonFields.Parse(result.Stdout)));
        Assert.Equal("db", cli.Client.Last<AuthorizeRequestDto>().Target);
    }

    [Fact]
    public async Task CaRoots_Json_UsesConsulNamesAndRfc3339Utc()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "roots", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var json = JsonFields.Parse(result.Stdout);
        Assert.Equal("aa:bb", json.GetProperty("ActiveRootID").GetString());
        Assert.Equal("11111111-2222.consul", json.GetProperty("TrustDomain").GetString());
        var root = json.GetProperty("Roots")[0];
        foreach (var field in new[] { "ID", "Name", "SerialNumber", "SigningKeyID", "NotBefore", "NotAfter", "RootCert", "IntermediateCerts", "Active" })
            Assert.True(root.TryGetProperty(field, out _), field);
        Assert.Equal("2025-01-02T03:04:05Z", root.GetProperty("NotBefore").GetString());
        Assert.Equal(7ul, root.GetProperty("SerialNumber").GetUInt64());
        Assert.Contains("-----BEGIN CERTIFICATE-----\nROOT1", root.GetProperty("RootCert").GetString());
        Assert.DoesNotContain("\\u002B", result.Stdout);
    }

    [Fact]
    public async Task CaConfigGet_Json_PrintsDurationsAsGo()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "config", "get", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var json = JsonFields.Parse(result.Stdout);
        Assert.Equal("72h0m0s", json.GetProperty("LeafCertTTL").GetString());
        Assert.Equal("8760h0m0s", json.GetProperty("IntermediateCertTTL").GetString());
        Assert.Equal("87600h0m0s", json.GetProperty("RootCertTTL").GetString());
        Assert.Equal(50, json.GetProperty("CSRMaxPerSecond").GetInt32());
    }

    [Fact]
    public async Task CaRoots_Pem_PrintsEveryRootFollowedByItsIntermediates()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "roots", "--pem");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var order = new[] { "ROOT1", "INTER1", "ROOT0" }.Select(s => result.Stdout.IndexOf(s, StringComparison.Ordinal)).ToArray();
        Assert.All(order, i => Assert.True(i >= 0));
        Assert.True(order[0] < order[1] && order[1] < order[2]);
        Assert.Equal(3, result.Stdout.Split("-----END CERTIFICATE-----\n").Length - 1);
    }

    [Fact]
    public async Task CertGet_WithoutOut_PrintsCertificateButNotTheKey_AndSaysHowToGetIt()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "get", "--service", "web");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("LEAF", result.Stdout);
        Assert.DoesNotContain("PRIVATE KEY", result.Stdout);
        Assert.DoesNotContain("SECRET", result.Stdout);
        Assert.Contains("--include-key", result.Stderr);
        Assert.Contains("--out DIR", result.Stderr);
    }

    [Fact]
    public async Task CertGet_JsonWithoutIncludeKey_LeavesThePrivateKeyFieldOut()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "get", "--service", "web", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var json = JsonFields.Parse(result.Stdout);
        Assert.False(json.TryGetProperty("PrivateKeyPEM", out _));
        Assert.DoesNotContain("SECRET", result.Stdout);
        Assert.Equal("0e", json.GetProperty("SerialNumber").GetString());
    }

    [Fact]
    public async Task CertGet_IncludeKey_PrintsTheKey()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "get", "--service", "web", "--include-key");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("SECRET", result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task CertSignHelp_PromisesNoKeyFile_CertGetHelpDoes()
    {
        var sign = await new CliHarness().RunAsync("cert", "sign", "--help");
        var get = await new CliHarness().RunAsync("cert", "get", "--help");
        Assert.Contains("cert.pem", sign.Stdout);
        Assert.DoesNotContain("key.pem", sign.Stdout);
        Assert.Contains("key.pem", get.Stdout);
    }

    [Fact]
    public async Task CertGet_Json_HasConsulIssuedCertFields()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "get", "--service", "web", "--wait-newer-than", "0d", "--json", "--include-key");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var json = JsonFields.Parse(result.Stdout);
        foreach (var field in new[] { "SerialNumber", "CertPEM", "PrivateKeyPEM", "ServiceURI", "ValidAfter", "ValidBefore" })
            Assert.True(json.TryGetProperty(field, out _), field);
        Assert.Equal("2025-01-05T03:04:05Z", json.GetProperty("ValidBefore").GetString());
        Assert.Equal(("web", "0d"), cli.Client.Last<(string, string?)>());
    }

    [Fact]
    public async Task Status_Human_ShowsRoleTrustDomainAndCa()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("Role:              primary", result.Stdout);
        Assert.Contains("Trust domain:      11111111-2222.consul", result.Stdout);
        Assert.Contains("CA state:          INITIALIZED", result.Stdout);
        Assert.Contains("Signing CA expiry: 2035-01-02T03:04:05Z", result.Stdout);
        Assert.DoesNotContain("Degraded", result.Stdout);
    }
}

[Trait("Category", "Unit")]
public sealed class ExitCodeTests
{
    public static TheoryData<Exception, int> Errors => new()
    {
        { new MeridianNotFoundException("intention not found"), ExitCodes.NotFound },
        { new MeridianPermissionDeniedException("Permission denied"), ExitCodes.PermissionDenied },
        { new NotPrimaryDatacenterException("dc1", "not the primary"), ExitCodes.PermissionDenied },
        { new MeridianUnreachableException("cannot reach datacenter dc1 at gateway 127.0.0.1:30000"), ExitCodes.Unreachable },
        { new DatacenterUnreachableException("dc1", "primary dc1 unreachable"), ExitCodes.Unreachable },
        { new TimeoutException("Response did not arrive on time"), ExitCodes.Unreachable },
        { new AggregateException(new InvalidOperationException("x", new MeridianUnreachableException("gone"))), ExitCodes.Unreachable },
        { new RateLimitedException(), ExitCodes.Failed },
        { new CaNotInitializedException("CA is uninitialized and unable to sign certificates yet"), ExitCodes.Failed },
        { new InvalidOperationException("boom"), ExitCodes.Failed },
        // What the silo and the SDK make of any other failure: the kind decides.
        { new MeridianException("IIntentionRegistryGrain.UpsertAsync failed (JsonSerializationException): bad state"), ExitCodes.Failed },
        { new MeridianException("primary unreachable", MeridianErrorKind.Unavailable), ExitCodes.Unreachable },
        { new MeridianException("no such thing", MeridianErrorKind.NotFound), ExitCodes.NotFound },
        { new MeridianException("bad value", MeridianErrorKind.Validation), ExitCodes.BadInput },
        { new MeridianException("not allowed", MeridianErrorKind.PermissionDenied), ExitCodes.PermissionDenied },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task CallFails_ExitCodeFollowsTheErrorType(Exception error, int expected)
    {
        var cli = new CliHarness();
        cli.Client.Failure = error;
        var result = await cli.RunAsync("status");
        Assert.Equal(expected, result.ExitCode);
        Assert.StartsWith("meridian: ", Assert.Single(result.ErrorLines));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task AclRefusal_ExitCode4_PrintsConsulsTextWithThePermission()
    {
        // What the silo's ACL filter answers a token without operator:read (docs/acl.md).
        const string refusal = "Permission denied: token with AccessorID '6a1c2e8f-0b5f-4a57-9d0e-6f1b2d3c4e5f' lacks permission 'operator:read'";
        var cli = new CliHarness();
        cli.Client.Failure = new MeridianPermissionDeniedException(refusal);
        var result = await cli.RunAsync("status");
        Assert.Equal(4, result.ExitCode);
        Assert.Equal("meridian: " + refusal, Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task ValidationError_PrintsOneFieldLinePerProblem()
    {
        var cli = new CliHarness();
        cli.Client.Failure = new MeridianValidationException(
        [
            new ValidationProblemDto("SourceName", "partial_wildcard", "wildcard usage is not allowed in the name"),
            new ValidationProblemDto("Action", "invalid_value", "Action must be 'allow' or 'deny'"),
        ]);
        var result = await cli.RunAsync("intention", "upsert", "--source", "web*", "--destination", "db", "--action", "allow");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        // Named after the options the user typed, not the API's fields.
        Assert.Equal(["--source: wildcard usage is not allowed in the name", "--action: must be 'allow' or 'deny'"], result.ErrorLines);
    }

    [Fact]
    public async Task OrleansTimeout_NamesTheGatewayTried()
    {
        var cli = new CliHarness();
        cli.Client.Failure = new TimeoutException("no answer");
        var result = await cli.RunAsync("ca", "roots", "--gateway", "10.1.2.3:30005", "--datacenter", "dc7");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Equal("meridian: cannot reach datacenter dc7 at gateway 10.1.2.3:30005: no answer", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task ConnectToAnotherDatacenter_ExitsFiveSayingWhichAndHowToReachIt()
    {
        var cli = new CliHarness();
        cli.Clients.ConnectFailure = new MeridianWrongDatacenterException("127.0.0.1:30000", "dc2", "dc1");
        var result = await cli.RunAsync("intention", "list", "--datacenter", "dc2");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Equal(
            "meridian: gateway 127.0.0.1:30000 serves datacenter dc1, not dc2; use --gateway with a gateway of dc2, or --datacenter dc1",
            Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task IntentionList_FilteredByAcls_SaysSo_HumanAndJson()
    {
        var cli = new CliHarness();
        cli.Client.Intentions = cli.Client.Intentions with { FilteredByAcls = true };
        var human = await cli.RunAsync("intention", "list");
        Assert.Equal(ExitCodes.Ok, human.ExitCode);
        Assert.EndsWith("(filtered by ACLs: intentions the token may not read are not listed)", human.Stdout.TrimEnd());
        var json = await new CliHarness { Client = { Intentions = cli.Client.Intentions } }.RunAsync("intention", "list", "--json");
        Assert.True(JsonFields.Parse(json.Stdout).GetProperty("FilteredByAcls").GetBoolean());
    }

    [Fact]
    public async Task ConnectFails_ExitsFiveWithTheSdkMessage()
    {
        var cli = new CliHarness();
        cli.Clients.ConnectFailure = new MeridianUnreachableException("cannot reach datacenter dc1 at gateway 127.0.0.1:30000: refused");
        var result = await cli.RunAsync("intention", "list");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("127.0.0.1:30000", Assert.Single(result.ErrorLines));
    }
}
