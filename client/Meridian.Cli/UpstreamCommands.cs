using System.CommandLine;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian upstream resolve --service S --upstream NAME[:DC] | --query Q</c>: the endpoints a sidecar of S dials for
/// one upstream (address, port, datacenter, the SPIFFE ID the destination must present); see
/// <see cref="UpstreamResolution"/>. <c>--json</c> prints the resolution with its endpoints.
/// </summary>
internal static class UpstreamCommands
{
    public static Command Create(CommandRunner runner)
    {
        var upstream = new Command("upstream", "Resolve a sidecar's upstreams");
        var service = new Option<string?>("--service") { Description = "The service whose sidecar dials the upstream (its declared upstreams supply a datacenter not given)", HelpName = "SERVICE" };
        var target = new Option<string?>("--upstream") { Description = "A destination service, in this datacenter or NAME:DC", HelpName = "NAME[:DC]" };
        var query = new Option<string?>("--query") { Description = "A prepared query (may fail over to other datacenters)", HelpName = "QUERY" };
        var resolve = new Command("resolve", "The endpoints of one upstream: healthy instances (or their sidecars), WAN addresses for another datacenter") { service, target, query };
        runner.OnClient(resolve, async (run, client) =>
        {
            var (name, q) = (run.Get(target), run.Get(query));
            if (string.IsNullOrEmpty(name) == string.IsNullOrEmpty(q))
                throw new CliUsageException([new CliProblem("--upstream", "give exactly one of --upstream NAME[:DC] and --query QUERY")]);
            UpstreamDto dto;
            if (!string.IsNullOrEmpty(q)) dto = new UpstreamDto { DestinationType = "prepared_query", DestinationName = q };
            else
            {
                var colon = name!.LastIndexOf(':');
                dto = colon > 0 && colon < name.Length - 1
                    ? new UpstreamDto { DestinationType = "service", DestinationName = name[..colon], Datacenter = name[(colon + 1)..] }
                    : new UpstreamDto { DestinationName = name.TrimEnd(':') };
            }
            var result = await client.ResolveUpstreamAsync(run.Get(service), dto, run.CancellationToken);
            if (run.Output.Json)
            {
                run.Output.WriteJson(result);
                return;
            }
            run.Output.Line($"{result.DestinationType} {Output.Printable(result.DestinationName)} in {result.Datacenter}"
                + (result.Failovers > 0 ? $" (after {result.Failovers} failover(s))" : "") + (result.ViaSidecar ? ", through its sidecar proxies" : ""));
            if (result.Endpoints.Count == 0) run.Output.Line("No healthy endpoints.");
            foreach (var e in result.Endpoints)
                run.Output.Line($"{Output.Printable(e.Address)}:{e.Port}\t{e.Datacenter}\t{e.SpiffeId}\t{Output.Printable(e.Node)}/{Output.Printable(e.ServiceId)}");
        });
        upstream.Subcommands.Add(resolve);
        return upstream;
    }
}
