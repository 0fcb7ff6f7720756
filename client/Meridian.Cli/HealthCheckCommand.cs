using System.CommandLine;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian check</c> without a subcommand: the datacenter's health checks (in the manner of <c>linkerd check</c>),
/// one line per check, exit 1 when any fails, each failure followed by its fix. Its subcommands
/// (<c>pass</c>, <c>warn</c>, <c>fail</c>: TTL checks of the catalog) keep working. Decisions are
/// <see cref="HealthCheckRules"/>'; this only gathers (status, roots, datacenters, the TLS files) and prints.
/// </summary>
internal static class HealthCheckCommand
{
    public static void AddTo(Command check, CommandRunner runner)
    {
        var maxLag = CliParsers.IntOption("--max-lag",
            $"Most replication lag accepted, as an index difference (the primary's index minus the one applied here). Default {CheckThresholds.Default.MaxLag}");
        var maxSkew = CliParsers.DurationOption("--max-clock-skew",
            $"Most clock difference accepted between the datacenter and this machine, beyond the call's RTT. Default {Output.Duration(CheckThresholds.Default.MaxClockSkew)}");
        check.Options.Add(maxLag);
        check.Options.Add(maxSkew);
        check.Description = "Without a subcommand: check the datacenter's health (CA validity, chains, role, replication, clock, TLS files); " +
            "exit 1 when a check fails. With pass/warn/fail: set a catalog check's status";
        runner.OnRun(check, async (run, settings) =>
        {
            if (run.Get(maxLag) is < 0) throw new CliUsageException([new CliProblem("--max-lag", "must be 0 or more")]);
            var thresholds = CheckThresholds.Default with
            {
                MaxLag = run.Get(maxLag) is { } lag ? (ulong)lag : CheckThresholds.Default.MaxLag,
                MaxClockSkew = run.Get(maxSkew) ?? CheckThresholds.Default.MaxClockSkew,
            };
            var tls = await ReadTlsAsync(settings.Tls, run.CancellationToken);
            var clock = run.Context.Clock;
            IReadOnlyList<CheckLine> lines;
            await using (var connection = await run.Context.Clients.ConnectAsync(settings, run.CancellationToken))
            {
                var client = connection.Client;
                var sent = clock.GetUtcNow();
                var status = await client.GetStatusAsync(run.CancellationToken);
                var received = clock.GetUtcNow();
                var roots = await client.GetCaRootsAsync(run.CancellationToken);
                var datacenters = await client.GetDatacentersAsync(run.CancellationToken);
                lines = HealthCheckRules.Evaluate(new CheckInputs(status, roots, datacenters, clock.GetUtcNow(), new ClockSample(sent, received), tls, thresholds));
            }
            run.Output.Write(lines, Write);
            return HealthCheckRules.ExitCode(lines);
        });
    }

    // Read here (existence is checked when the options are resolved); parsing and judging are the rules'.
    private static async Task<TlsFileContents?> ReadTlsAsync(TlsFiles? files, CancellationToken ct)
    {
        if (files is null) return null;
        return new TlsFileContents(
            await File.ReadAllTextAsync(files.CaFile, ct),
            files.ClientCert is { } cert ? await File.ReadAllTextAsync(cert, ct) : null,
            files.ClientKey is { } key ? await File.ReadAllTextAsync(key, ct) : null);
    }

    private static void Write(Output o, IReadOnlyList<CheckLine> lines)
    {
        var width = lines.Max(l => l.Check.Length);
        foreach (var l in lines)
        {
            o.Line($"{l.Status,-4}  {l.Check.PadRight(width)}  {l.Detail}");
            if (l.Fix is { } fix) o.Line($"{"",-4}  {"".PadRight(width)}  fix: {fix}");
        }
        var failed = lines.Count(l => l.Outcome == CheckOutcome.Fail);
        o.Line(failed == 0 ? "All checks passed." : $"{failed} check{(failed == 1 ? "" : "s")} failed.");
    }
}
