using System.CommandLine;
using System.Net;
using Meridian.Client;
using Meridian.Core.Validation;
using Meridian.Proxy;
using Microsoft.Extensions.Logging;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian connect proxy</c>: the built-in sidecar proxy (issue 17; see <see cref="ConnectProxy"/>). Runs until
/// Ctrl-C or SIGTERM, then drains. Configured by flags or, with <c>--sidecar-for</c>, from the service's registered
/// sidecar. Prints one ready line on stdout; logs (one line per refused connection) go to stderr.
/// </summary>
internal static class ConnectCommands
{
    public static Command Create(CommandRunner runner)
    {
        var connect = new Command("connect", "Connect (service mesh) data plane");
        var service = new Option<string?>("--service") { Description = "The service this proxy represents (its certificate names it)", HelpName = "NAME" };
        var sidecarFor = new Option<string?>("--sidecar-for") { Description = "Read the configuration from the service's registered connect-proxy (listener, local app, upstreams)", HelpName = "NAME" };
        var listen = new Option<string?>("--listen") { Description = "Public mutual-TLS listener (others dial it)", HelpName = "ADDRESS:PORT" };
        var localApp = new Option<string?>("--local-app") { Description = "Where inbound connections are forwarded", HelpName = "HOST:PORT" };
        var upstreams = new Option<string[]>("--upstream")
        {
            Description = "A local listener on 127.0.0.1:PORT for a service (in DC, or this datacenter) or a prepared query; repeatable",
            HelpName = "NAME:PORT[:DC]|query:NAME:PORT",
            AllowMultipleArgumentsPerToken = false,
        };
        var node = new Option<string?>("--node") { Description = "Catalog node to register on (default: this machine's name); with --sidecar-for, the node of the sidecar to run", HelpName = "NODE" };
        var advertise = new Option<string?>("--advertise") { Description = "Address registered for the proxy (default: the listen address, or 127.0.0.1)", HelpName = "ADDRESS" };
        var noRegister = new Option<bool>("--no-register") { Description = "Do not register the proxy in the catalog (registered by default when it listens)" };
        var drain = new Option<int>("--drain-timeout") { Description = "Seconds open connections get to finish at stop", DefaultValueFactory = _ => 10, HelpName = "SECONDS" };
        var proxy = new Command("proxy", "Run a sidecar proxy: mutual TLS in, authorized by intentions; local listeners out to upstreams")
        {
            service, sidecarFor, listen, localApp, upstreams, node, advertise, noRegister, drain,
        };
        runner.OnClient(proxy, async (run, client) =>
        {
            var options = await OptionsAsync(run, client, service, sidecarFor, listen, localApp, upstreams, node, advertise, noRegister, drain);
            using var logs = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; })
                .AddFilter("Meridian", LogLevel.Information)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            ConnectProxy running;
            try
            {
                running = new ConnectProxy(client, options, logs.CreateLogger("Meridian.Proxy"));
            }
            catch (DomainValidationException invalid)
            {
                throw Usage(invalid);
            }
            await using (running)
            {
                await running.StartAsync(run.CancellationToken);
                run.Output.Line($"==> Meridian connect proxy for {options.Service} ready in {client.Datacenter}: "
                    + (running.InboundEndpoint is { } inbound ? $"public listener {inbound} -> {options.LocalApp!.Host}:{options.LocalApp.Port}" : "no public listener")
                    + string.Concat(running.UpstreamEndpoints.Select(u => $"; upstream {u.Upstream} on {u.Endpoint}")));
                await run.Context.Out.FlushAsync(CancellationToken.None);
                try
                {
                    await Task.Delay(Timeout.Infinite, run.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C / SIGTERM: drain below.
                }
                await running.StopAsync(CancellationToken.None);
                var c = running.Counters;
                run.Output.Line($"==> stopped: {c.AcceptedInbound} inbound and {c.AcceptedUpstream} upstream connections carried, {c.Refused} refused, {c.Failed} failed, {c.Bytes} bytes");
            }
        });
        connect.Subcommands.Add(proxy);
        return connect;
    }

    private static async Task<ProxyOptions> OptionsAsync(CommandRun run, IMeridianClient client, Option<string?> service, Option<string?> sidecarFor,
        Option<string?> listen, Option<string?> localApp, Option<string[]> upstreams, Option<string?> node, Option<string?> advertise,
        Option<bool> noRegister, Option<int> drain)
    {
        List<CliProblem> problems = [];
        var flags = run.Get(upstreams) ?? [];
        ProxyOptions options;
        if (run.Get(sidecarFor) is { Length: > 0 } sidecar)
        {
            foreach (var (name, given) in new[] { ("--service", run.Get(service) is not null), ("--listen", run.Get(listen) is not null), ("--local-app", run.Get(localApp) is not null), ("--upstream", flags.Length > 0) })
                if (given) problems.Add(new CliProblem(name, "comes from the registered sidecar with --sidecar-for; give one or the other"));
            CliUsageException.ThrowIfAny(problems);
            try
            {
                options = await SidecarRegistration.ReadAsync(client, sidecar, run.Get(node), run.CancellationToken);
            }
            catch (DomainValidationException invalid)
            {
                throw Usage(invalid);
            }
        }
        else
        {
            options = new ProxyOptions { Service = run.Get(service) ?? "" };
            if (run.Get(listen) is { } l)
            {
                if (IPEndPoint.TryParse(l, out var endpoint) && l.Contains(':', StringComparison.Ordinal)) options.Listen = endpoint;
                else problems.Add(new CliProblem("--listen", $"\"{l}\" must be ADDRESS:PORT (e.g. 0.0.0.0:21000)"));
            }
            if (run.Get(localApp) is { } a)
            {
                var colon = a.LastIndexOf(':');
                if (colon > 0 && int.TryParse(a[(colon + 1)..], out var port) && port is > 0 and <= 65535) options.LocalApp = new DnsEndPoint(a[..colon].Trim('[', ']'), port);
                else problems.Add(new CliProblem("--local-app", $"\"{a}\" must be HOST:PORT (e.g. 127.0.0.1:8080)"));
            }
            foreach (var flag in flags)
            {
                try
                {
                    options.Upstreams.Add(ProxyUpstream.Parse(flag));
                }
                catch (DomainValidationException invalid)
                {
                    problems.AddRange(invalid.Problems.Select(p => new CliProblem("--upstream", CliProblem.WithoutField(p))));
                }
            }
            if (run.Get(node) is { Length: > 0 } n) options.Node = n;
            if (run.Get(noRegister)) options.Register = false;
        }
        if (run.Get(advertise) is { Length: > 0 } adv) options.AdvertiseAddress = adv;
        var seconds = run.Get(drain);
        if (seconds <= 0) problems.Add(new CliProblem("--drain-timeout", "must be a positive number of seconds"));
        else options.DrainTimeout = TimeSpan.FromSeconds(seconds);
        CliUsageException.ThrowIfAny(problems);
        return options;
    }

    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Service"] = "--service", ["Listen"] = "--listen", ["LocalApp"] = "--local-app", ["Register"] = "--no-register", ["Node"] = "--node",
    };

    private static CliUsageException Usage(DomainValidationException invalid) => new([.. invalid.Problems.Select(p =>
        new CliProblem(Flags.TryGetValue(p.Field, out var flag) ? flag : p.Field.StartsWith("Upstreams", StringComparison.Ordinal) ? "--upstream" : p.Field, CliProblem.WithoutField(p)))]);
}
