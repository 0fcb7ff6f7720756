using Meridian.Core.Intentions;
using Meridian.Core.Validation;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

/// <summary>
/// The server's name and text rules as a CLI user meets them: problems name the option typed (<c>--source</c>), not
/// the API field (<c>SourceName</c>), never print a raw control character, and stored text is shown escaped.
/// </summary>
[Trait("Category", "Unit")]
public sealed class NameRuleCliTests
{
    // The problems the server really reports (Core's rules), as they cross the wire.
    private static MeridianValidationException Refused(IEnumerable<ValidationProblem> problems)
        => new([.. problems.Select(p => new ValidationProblemDto(p.Field, p.Code, p.Message))]);

    private static string Flat(string text) => string.Join(' ', text.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public async Task IntentionUpsert_ServerRefusesNamesAndText_EachLineNamesTheOption()
    {
        var cli = new CliHarness();
        cli.Client.Failure = Refused(IntentionRules.Validate(new Intention
        {
            SourceNS = "default", SourceName = "Web", DestinationNS = "default", DestinationName = "db\u0001",
            SourceDatacenter = "DC1", Description = "x\ty", Action = IntentionAction.Allow, SourceType = "consul",
            Meta = new Dictionary<string, string> { ["k\u202E"] = "v" },
        }));

        var result = await cli.RunAsync("intention", "upsert", "--source", "Web", "--destination", "db\u0001",
            "--source-dc", "DC1", "--description", "x\ty", "--meta", "k\u202E=v", "--action", "allow");

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(
            [
                "--source: \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
                "--destination: \"db\\x01\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
                "--source-dc: \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)",
                "--description: \"x\\ty\" contains the control character \"\\t\" at position 1; control and bidirectional-override characters are not allowed",
                "--meta: key \"k\\u202e\" contains the control character \"\\u202e\" at position 1; control and bidirectional-override characters are not allowed",
            ],
            result.ErrorLines);
        Assert.DoesNotContain(result.Stderr, c => ValidationText.IsForbidden(c) && c is not '\n' and not '\r');
    }

    [Theory]
    [InlineData("get")]
    [InlineData("delete")]
    [InlineData("check")]
    public async Task IntentionPairCommands_ServerRefusesNames_LinesNameSourceAndDestinationOptions(string command)
    {
        var cli = new CliHarness();
        var problems = new List<ValidationProblem>();
        foreach (var (text, field) in new[] { ("Web", "source"), ("d b", "destination") })
        {
            try { ServiceSelector.Parse(text, field); }
            catch (DomainValidationException e) { problems.AddRange(e.Problems); }
        }
        cli.Client.Failure = Refused(problems);

        var result = await cli.RunAsync("intention", command, "--source", "Web", "--destination", "db");

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(
            [
                "--source: \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
                "--destination: \"d b\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
            ],
            result.ErrorLines);
    }

    [Theory]
    [InlineData("service", "get")]
    [InlineData("service.Service", "get")]
    [InlineData("service", "sign")]
    public async Task Cert_ServerRefusesServiceName_LineNamesServiceOption(string field, string command)
    {
        var cli = new CliHarness();
        cli.Client.Failure = Refused([ServiceName_Check(field, "Web")]);
        var csr = Path.GetTempFileName();
        try
        {
            string[] args = command == "get" ? ["cert", "get", "--service", "Web"] : ["cert", "sign", "--service", "Web", "--csr", csr];
            var result = await cli.RunAsync(args);
            Assert.Equal(ExitCodes.BadInput, result.ExitCode);
            Assert.Equal(["--service: \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)"], result.ErrorLines);
        }
        finally
        {
            File.Delete(csr);
        }
    }

    private static ValidationProblem ServiceName_Check(string field, string value) => Core.Identity.ServiceName.Check(field, value)!;

    [Fact]
    public async Task AuthorizeAndMatch_ServerRefusesNames_LinesNameTheOptionAndArgument()
    {
        var cli = new CliHarness();
        cli.Client.Failure = Refused([ServiceName_Check("Target", "d b")]);
        var authorize = await cli.RunAsync("authorize", "--target", "d b", "--client-cert-uri", "spiffe://x.consul/ns/default/dc/dc1/svc/web");
        Assert.Equal(["--target: \"d b\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)"], authorize.ErrorLines);

        var match = new CliHarness();
        match.Client.Failure = Refused([ServiceName_Check("name", "Web")]);
        var result = await match.RunAsync("intention", "match", "--by", "source", "Web");
        Assert.Equal(["<NAME>: \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)"], result.ErrorLines);
    }

    [Fact]
    public async Task IntentionList_StoredNameWithControlCharacter_IsPrintedEscapedNotAsItsTwin()
    {
        var cli = new CliHarness();
        cli.Client.Intentions = new IntentionListDto(7,
        [
            new IntentionDto { SourceNS = "default", SourceName = "web", DestinationNS = "default", DestinationName = "db", Action = "allow", Precedence = 9 },
            new IntentionDto { SourceNS = "default", SourceName = "web\u0001", DestinationNS = "default", DestinationName = "db", Action = "allow", Precedence = 9 },
        ]);

        var result = await cli.RunAsync("intention", "list");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(
            ["default/web => default/db allow (precedence 9)", "default/web\\x01 => default/db allow (precedence 9)"],
            result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task IntentionUpsertHelp_SaysMetaAndIndexesBelongToTheDestinationEntry()
    {
        var result = await new CliHarness().RunAsync("intention", "upsert", "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var help = Flat(result.Stdout);
        Assert.Contains("Meta, CreateIndex and ModifyIndex belong to the destination's entry and are the same on all of its intentions", help);
        Assert.Contains("Meta belongs to the destination's entry, shared by all its sources", help);
        Assert.Contains("Names are lower-case letters, digits, '-' and '_' (as for certificates), or '*'", help);
    }
}
