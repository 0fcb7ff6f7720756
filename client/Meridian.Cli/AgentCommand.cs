using System.CommandLine;
using System.Net;
using Meridian.Client;
using Meridian.HttpApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian agent --http 127.0.0.1:8500</c>: a light process next to workloads, like Consul's client agent, that
/// keeps one SDK connection to the datacenter (<c>--gateway</c>) and serves Consul's HTTP API on a local address, so
/// <c>CONSUL_HTTP_ADDR=127.0.0.1:8500</c> tools work unchanged. Requests without a token use the agent's own
/// (<c>--token</c>, Consul's agent default token). Runs until Ctrl-C.
/// </summary>
internal static class AgentCommand
{
    public static Command Create(CommandRunner runner)
    {
        var http = new Option<string>("--http") { Description = "Address to serve Consul's HTTP API on (plain HTTP; keep it on loopback)", HelpName = "HOST:PORT", DefaultValueFactory = _ => "127.0.0.1:8500" };
        var node = new Option<string?>("--node") { Description = "Node name agent services and checks are registered on. Default: the host name", HelpName = "NAME" };
        var address = new Option<string>("--node-address") { Description = "Address of that node in the catalog", HelpName = "IP", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("agent", "Serve Consul's HTTP API (/v1/...) locally through one connection to the datacenter, like Consul's client agent")
        {
            http, node, address,
        };
        runner.OnClient(command, async (run, client) =>
        {
            var text = run.Required(http);
            if (MeridianClientOptions.CheckEndpoint(text) is { } problem) throw new CliUsageException([new CliProblem("--http", problem)]);
            var endpoint = MeridianClientOptions.ParseEndpoint(text);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));
            await using var app = builder.Build();
            var options = new ConsulHttpApiOptions { Server = false, NodeAddress = run.Required(address) };
            if (run.Get(node) is { Length: > 0 } name) options.NodeName = name;
            app.MapConsulHttpApi(client, options);
            await app.StartAsync(run.CancellationToken);
            run.Output.Line($"meridian agent: ready, serving Consul's HTTP API on http://{endpoint} for {client.Datacenter} (node {options.NodeName})");
            await run.Context.Out.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, run.CancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
        });
        return command;
    }
}
