using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class CaAdoptPrimaryCommandTests
{
    private const string TrustDomain = "0badc0de-0000-4000-8000-000000000000.consul";

    [Fact]
    public async Task AdoptPrimary_WithTrustDomain_CallsTheSdk_AndSaysTheNextRoundRepins()
    {
        var cli = new CliHarness();
        cli.Client.Status = cli.Client.Status with { Ca = cli.Client.Status.Ca with { Degraded = "trust domain mismatch: …" } };
        var result = await cli.RunAsync("ca", "adopt-primary", "--trust-domain", TrustDomain);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(("adopt-primary", TrustDomain), cli.Client.Last<(string, string)>());
        Assert.Contains($"Accepted trust domain {TrustDomain}: the next root-watch round re-pins dc1 to it.", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("trust domain mismatch", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdoptPrimary_WithoutTrustDomain_IsBadInput_AndCallsNothing()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("ca", "adopt-primary");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--trust-domain", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(cli.Client.Requests);
    }

    [Fact]
    public async Task AdoptPrimary_RefusedByTheDatacenter_NamesTheOption()
    {
        var cli = new CliHarness();
        cli.Client.Failure = new MeridianValidationException(
            [new ValidationProblemDto("trust_domain", "invalid_format", "trust domain \"x\" is not of the form <cluster-id>.consul")]);
        var result = await cli.RunAsync("ca", "adopt-primary", "--trust-domain", "x");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(["--trust-domain: trust domain \"x\" is not of the form <cluster-id>.consul"], result.ErrorLines);
    }
}
