using System.CommandLine;
using System.Globalization;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian datacenters</c>: every datacenter of the federation, nearest first by the RTT measured from the
/// connected datacenter (Consul's <c>consul catalog datacenters</c> order), with primary, reachable and RTT.
/// </summary>
internal static class DatacentersCommand
{
    public static Command Create(CommandRunner runner)
    {
        var command = new Command("datacenters", "List the federation's datacenters, nearest first by measured RTT (unreachable last)");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetDatacentersAsync(run.CancellationToken), (o, list) =>
            {
                o.Line($"{"NAME",-16} {"PRIMARY",-8} {"REACHABLE",-10} RTT");
                foreach (var d in list.Datacenters)
                    o.Line($"{d.Name,-16} {(d.Primary ? "yes" : "no"),-8} {(d.Reachable ? "yes" : "no"),-10} {Rtt(d)}");
            }));
        return command;
    }

    // Milliseconds with one decimal: the local datacenter is 0, an unmeasured one "-" (Consul ranks it +∞).
    private static string Rtt(Grains.DatacenterInfoDto d)
        => d.Local ? "0 (local)" : d.Rtt is { } rtt ? $"{rtt.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms" : "-";
}
