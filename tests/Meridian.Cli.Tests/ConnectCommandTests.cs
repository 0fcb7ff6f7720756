namespace Meridian.Cli.Tests;

/// <summary><c>meridian connect proxy</c>'s command line: every bad flag is reported at once, naming the flag, before anything runs.</summary>
public sealed class ConnectCommandTests
{
    [Fact]
    public async Task ConnectProxy_BadFlags_ExitTwo_OneLinePerProblem_NamingTheFlag()
    {
        var result = await new CliHarness().RunAsync("connect", "proxy", "--service", "web", "--listen", "foo", "--local-app", "nohost",
            "--upstream", "db:x", "--upstream", "query:geo", "--drain-timeout", "0");

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal([
            "--listen: \"foo\" must be ADDRESS:PORT (e.g. 0.0.0.0:21000)",
            "--local-app: \"nohost\" must be HOST:PORT (e.g. 127.0.0.1:8080)",
            "--upstream: \"db:x\" must be NAME:PORT[:DC] or query:NAME:PORT (e.g. db:9191, db:9191:dc2, query:db-geo:9192)",
            "--upstream: \"query:geo\" must be NAME:PORT[:DC] or query:NAME:PORT (e.g. db:9191, db:9191:dc2, query:db-geo:9192)",
            "--drain-timeout: must be a positive number of seconds",
        ], result.ErrorLines);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task ConnectProxy_NeitherListenerNorUpstream_SaysWhatIsMissing()
    {
        var result = await new CliHarness().RunAsync("connect", "proxy", "--listen", "127.0.0.1:21000");

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(["--service: must be given: the proxied service's name, --service NAME or --sidecar-for NAME",
            "--local-app: is required with an inbound listener: the local application's address (--local-app HOST:PORT)"], result.ErrorLines);
    }

    [Fact]
    public async Task ConnectProxy_SidecarForWithFlags_IsOneOrTheOther()
    {
        var result = await new CliHarness().RunAsync("connect", "proxy", "--sidecar-for", "web", "--service", "web", "--upstream", "db:9191");

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(["--service: comes from the registered sidecar with --sidecar-for; give one or the other",
            "--upstream: comes from the registered sidecar with --sidecar-for; give one or the other"], result.ErrorLines);
    }
}
