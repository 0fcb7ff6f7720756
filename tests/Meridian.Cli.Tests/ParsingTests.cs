using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class ParsingTests
{
    [Theory]
    [InlineData("nope")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData(":30000")]
    public async Task Gateway_Invalid_ExitsTwoNamingGatewayWithoutConnecting(string gateway)
        => await AssertBadInputAsync("--gateway", "status", "--gateway", gateway);

    [Fact]
    public async Task Gateway_InvalidInEnvironment_NamesTheVariable()
    {
        var cli = new CliHarness();
        cli.Environment["MERIDIAN_GATEWAY"] = "localhost";
        var result = await cli.RunAsync("status");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("MERIDIAN_GATEWAY: ", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task GlobalOptions_NotGiven_ComeFromEnvironment()
    {
        var cli = new CliHarness();
        cli.Environment["MERIDIAN_GATEWAY"] = "10.0.0.1:31000,10.0.0.2:31000";
        cli.Environment["MERIDIAN_DATACENTER"] = "dc2";
        cli.Environment["MERIDIAN_TOKEN"] = "secret-token";
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("status")).ExitCode);
        var settings = Assert.Single(cli.Clients.Connections);
        Assert.Equal(["10.0.0.1:31000", "10.0.0.2:31000"], settings.Gateways);
        Assert.Equal("dc2", settings.Datacenter);
        Assert.Equal("secret-token", settings.Token);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.ConnectTimeout);
    }

    [Fact]
    public async Task GlobalOptions_Given_WinOverEnvironmentAndDefaults()
    {
        var cli = new CliHarness();
        cli.Environment["MERIDIAN_DATACENTER"] = "dc2";
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("status", "--datacenter", "dc3", "--token", "t")).ExitCode);
        var settings = Assert.Single(cli.Clients.Connections);
        Assert.Equal(["127.0.0.1:30000"], settings.Gateways);
        Assert.Equal("dc3", settings.Datacenter);
        Assert.Equal("t", settings.Token);
    }

    [Fact]
    public async Task Help_DoesNotShowTheTokenFromTheEnvironment()
    {
        var cli = new CliHarness();
        cli.Environment["MERIDIAN_TOKEN"] = "secret-token";
        var result = await cli.RunAsync("status", "--help");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("--token", result.Stdout);
        Assert.DoesNotContain("secret-token", result.Stdout);
    }

    [Theory]
    [InlineData("--leaf-ttl", "3x", "time: unknown unit \"x\" in duration \"3x\"")]
    [InlineData("--root-ttl", "abc", "time: invalid duration \"abc\"")]
    [InlineData("--intermediate-ttl", "10", "time: missing unit in duration \"10\"")]
    public async Task CaConfigSet_BadDuration_ExitsTwoWithGoText(string option, string value, string message)
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "config", "set", option, value);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal($"{option}: {message}", Assert.Single(result.ErrorLines));
        Assert.Empty(cli.Client.Requests);
    }

    [Fact]
    public async Task CaConfigSet_NoField_ExitsTwo()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "config", "set");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--leaf-ttl", Assert.Single(result.ErrorLines));
        Assert.Empty(cli.Client.Requests.OfType<CaConfigurationDto>());
    }

    [Fact]
    public async Task CaConfigSet_SomeFields_ChangesOnlyThose()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "config", "set", "--leaf-ttl", "1.5h", "--key-bits", "384");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var sent = cli.Client.Last<CaConfigurationDto>();
        Assert.Equal(cli.Client.Configuration with { LeafCertTTL = TimeSpan.FromMinutes(90), PrivateKeyBits = 384 }, sent);
        Assert.Contains("LeafCertTTL:         1h30m0s", result.Stdout);
        Assert.Contains("IntermediateCertTTL: 8760h0m0s", result.Stdout);
    }

    [Theory]
    [InlineData("web", "", "web")]
    [InlineData("*", "", "*")]
    [InlineData("team/web", "team", "web")]
    [InlineData("*/*", "*", "*")]
    public void ServiceRef_Valid_SplitsNamespaceAndName(string text, string ns, string name)
    {
        Assert.Equal(new ServiceRef(ns, name), CliParsers.ParseServiceRef(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("a/b/c")]
    [InlineData("/web")]
    [InlineData("team/")]
    [InlineData("")]
    [InlineData("we b")]
    public void ServiceRef_Invalid_ExplainsTheForm(string text)
    {
        Assert.Null(CliParsers.ParseServiceRef(text, out var error));
        Assert.Contains("must be NAME or NS/NAME", error);
    }

    [Fact]
    public async Task IntentionUpsert_MapsEveryOptionToConsulFields()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "upsert", "--source", "team/web", "--destination", "db", "--action", "deny",
            "--description", "no", "--meta", "owner=ops", "--meta", "url=http://x/?a=b", "--source-dc", "dc2", "--destination-dc", "dc1");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var sent = cli.Client.Last<IntentionDto>();
        Assert.Equal(("team", "web", "", "db"), (sent.SourceNS, sent.SourceName, sent.DestinationNS, sent.DestinationName));
        Assert.Equal(("deny", "no", "dc2", "dc1"), (sent.Action, sent.Description, sent.SourceDatacenter, sent.DestinationDatacenter));
        Assert.Equal(new Dictionary<string, string> { ["owner"] = "ops", ["url"] = "http://x/?a=b" }, sent.Meta);
        Assert.Contains("index 42", result.Stdout);
    }

    [Fact]
    public async Task IntentionUpsert_Json_PrintsTheWriteResult()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(42, JsonFields.Parse(result.Stdout).GetProperty("Index").GetInt64());
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("=value")]
    public async Task Meta_WithoutKey_ExitsTwoNamingMeta(string meta)
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", "--meta", meta);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal($"--meta: \"{meta}\" must be KEY=VALUE", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void Meta_ValueWithEquals_KeepsEverythingAfterTheFirst()
    {
        var meta = CliParsers.ParseMeta(["b=x=y", "c="], out var errors);
        Assert.Empty(errors);
        Assert.Equal(new Dictionary<string, string> { ["b"] = "x=y", ["c"] = "" }, meta);
    }

    [Fact]
    public async Task Meta_RepeatedKey_ExitsTwoNamingTheKey()
        => Assert.Equal("--meta: key \"a\" is given more than once", await AssertBadInputAsync("--meta",
            "intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", "--meta", "a=1", "--meta", "a=2"));

    [Theory]
    [InlineData("http://127.0.0.1:30000", "is a URL")]
    [InlineData("::1:30000", "[::1]:30000")]
    [InlineData("[127.0.0.1]:30000", "only an IPv6 address goes in brackets")]
    public async Task Gateway_UrlOrUnbracketedIpv6_ExitsTwoSayingTheForm(string gateway, string expected)
        => Assert.Contains(expected, await AssertBadInputAsync("--gateway", "status", "--gateway", gateway));

    [Fact]
    public async Task Gateway_BracketedIpv6_Connects()
    {
        var cli = new CliHarness();
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("status", "--gateway", "[::1]:30000")).ExitCode);
        Assert.Equal(["[::1]:30000"], Assert.Single(cli.Clients.Connections).Gateways);
    }

    [Theory]
    [InlineData("--datacenter", "DC 1!")]
    [InlineData("MERIDIAN_DATACENTER", "dc/2")]
    public async Task Datacenter_InvalidName_ExitsTwoNamingTheOption(string field, string value)
    {
        var cli = new CliHarness();
        var result = field.StartsWith("--", StringComparison.Ordinal)
            ? await cli.RunAsync("status", field, value)
            : await RunWithEnvironment(cli, field, value);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith($"{field}: \"{value}\" may contain only", line);
        Assert.Empty(cli.Clients.Connections);

        static Task<CliResult> RunWithEnvironment(CliHarness cli, string variable, string value)
        {
            cli.Environment[variable] = value;
            return cli.RunAsync("status");
        }
    }

    [Fact]
    public async Task CaConfigSet_SeveralBadValues_ReportsEachByValue()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "config", "set", "--key-bits", "abc", "--leaf-ttl", "3x", "--csr-max-per-second", "q");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(3, result.ErrorLines.Length);
        Assert.Contains("--key-bits: \"abc\" is not a whole number", result.ErrorLines);
        Assert.Contains("--csr-max-per-second: \"q\" is not a whole number", result.ErrorLines);
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--leaf-ttl: ", StringComparison.Ordinal));
        Assert.DoesNotContain("System.", result.Stderr);
        Assert.Empty(cli.Clients.Connections);
    }

    [Theory]
    [InlineData("d b")]
    [InlineData("Web")]
    public async Task Authorize_InvalidTarget_ExitsTwoWithoutConnecting(string target)
        => await AssertBadInputAsync("--target", "authorize", "--target", target, "--client-cert-uri", "spiffe://x.consul/ns/default/dc/dc1/svc/web");

    [Theory]
    [InlineData("zz")]
    [InlineData("0e:")]
    [InlineData("0e4")]
    public async Task CertGet_WaitNewerThanNotASerial_ExitsTwo(string serial)
        => await AssertBadInputAsync("--wait-newer-than", "cert", "get", "--service", "web", "--wait-newer-than", serial);

    [Fact]
    public async Task CertGet_WaitNewerThanSerial_IsPassedOn()
    {
        var cli = new CliHarness();
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("cert", "get", "--service", "web", "--wait-newer-than", "0e:4a:9f")).ExitCode);
        Assert.Equal(("web", "0e:4a:9f"), cli.Client.Last<(string, string?)>());
    }

    [Fact]
    public async Task IntentionMatch_InvalidName_ExitsTwoWithoutConnecting()
        => Assert.Equal("<NAME>: \"a/b/c\" must be NAME or NS/NAME",
            await AssertBadInputAsync("<NAME>", "intention", "match", "--by", "source", "web", "a/b/c"));

    [Fact]
    public async Task CertSign_CsrIsADirectory_ExitsTwoNamingCsr()
        => Assert.Contains("is a directory", await AssertBadInputAsync("--csr", "cert", "sign", "--service", "web", "--csr", Path.GetTempPath()));

    [Fact]
    public async Task CertGet_OutIsAFile_ExitsTwoAndLeavesTheFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "keep");
            var cli = new CliHarness();
            var result = await cli.RunAsync("cert", "get", "--service", "web", "--out", file);
            Assert.Equal(ExitCodes.BadInput, result.ExitCode);
            Assert.Equal($"--out: {file} is a file, not a directory", Assert.Single(result.ErrorLines));
            Assert.Equal("keep", await File.ReadAllTextAsync(file));
            Assert.Empty(cli.Client.Requests);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task CertGet_OutCannotBeCreated_ExitsTwoBeforeAnyRequest()
    {
        var file = Path.GetTempFileName();
        try
        {
            // A directory below a file can never be created, whoever runs the test (root included).
            var below = Path.Combine(file, "certs");
            var cli = new CliHarness();
            var result = await cli.RunAsync("cert", "get", "--service", "web", "--out", below);
            Assert.Equal(ExitCodes.BadInput, result.ExitCode);
            Assert.StartsWith($"--out: cannot write to {below}: ", Assert.Single(result.ErrorLines));
            Assert.Empty(cli.Client.Requests);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task IntentionUpsert_SeveralProblems_OneLineEach()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "upsert", "--source", "a/b/c", "--action", "maybe");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(3, result.ErrorLines.Length);
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--source: ", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--destination: ", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--action: ", StringComparison.Ordinal) && l.Contains("'allow'"));
        Assert.Empty(cli.Clients.Connections);
    }

    [Fact]
    public async Task IntentionGetAndDelete_SendSourceAndDestinationAsWritten()
    {
        var cli = new CliHarness();
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("intention", "get", "--source", "team/web", "--destination", "*")).ExitCode);
        Assert.Equal(new IntentionRefDto { Source = "team/web", Destination = "*" }, cli.Client.Last<IntentionRefDto>());
        Assert.Equal(ExitCodes.Ok, (await cli.RunAsync("intention", "delete", "--source", "web", "--destination", "db", "--source-dc", "dc2")).ExitCode);
        Assert.Equal(new IntentionRefDto { Source = "web", Destination = "db", SourceDatacenter = "dc2" }, cli.Client.Last<IntentionRefDto>());
    }

    [Fact]
    public async Task IntentionMatch_PassesByAndEveryName()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "match", "--by", "source", "web", "team/api");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var (by, names) = cli.Client.Last<(string, IReadOnlyList<string>)>();
        Assert.Equal("source", by);
        Assert.Equal(["web", "team/api"], names);
        Assert.Contains("team/api:", result.Stdout);
    }

    [Fact]
    public async Task CertSign_MissingCsrFile_ExitsTwoNamingCsr()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "sign", "--service", "web", "--csr", Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pem"));
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("--csr: ", Assert.Single(result.ErrorLines));
    }

    /// <summary>Runs <paramref name="args"/>; asserts exit 2, one line naming <paramref name="field"/>, and no connection.</summary>
    private static async Task<string> AssertBadInputAsync(string field, params string[] args)
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync(args);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith(field + ": ", line);
        Assert.Empty(cli.Clients.Connections);
        return line;
    }

    [Fact]
    public async Task NoCommand_ExitsTwo()
    {
        var result = await new CliHarness().RunAsync();
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.NotEmpty(result.ErrorLines);
    }
}
