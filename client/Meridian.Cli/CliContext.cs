using System.CommandLine;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// What the CLI needs from the outside world: its output streams, how it reaches a datacenter, how <c>meridian dev</c>
/// starts silos, and the environment. Tests replace every part.
/// </summary>
internal sealed class CliContext(
    TextWriter output,
    TextWriter error,
    IMeridianClientFactory clients,
    IDevSiloLauncher silos,
    Func<string, string?> environment)
{
    /// <summary>
    /// How long a command waits for a gateway before exiting with code 5: the SDK's default, stated here because
    /// <c>meridian dev</c> passes a longer one while its silos start.
    /// </summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    public TextWriter Out { get; } = output;
    public TextWriter Error { get; } = error;
    public IMeridianClientFactory Clients { get; } = clients;
    public IDevSiloLauncher Silos { get; } = silos;
    public Func<string, string?> Environment { get; } = environment;
    public TimeSpan ConnectTimeout { get; init; } = DefaultConnectTimeout;

    /// <summary>The clock for certificates the CLI makes itself (<c>meridian tls</c>); tests set their own.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The real console, Orleans client and in-process silos.</summary>
    public static CliContext CreateDefault()
        => new(Console.Out, Console.Error, new HostedMeridianClientFactory(), new WebApplicationSiloLauncher(),
            System.Environment.GetEnvironmentVariable);
}

/// <summary>One running command: its parse result, output and cancellation.</summary>
internal sealed record CommandRun(ParseResult Parse, Output Output, CliContext Context, CancellationToken CancellationToken)
{
    public T? Get<T>(Option<T> option) => Parse.GetValue(option);
    public T Required<T>(Option<T> option) => Parse.GetRequiredValue(option);
    public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);
}

/// <summary>
/// Binds command bodies to actions. The one place that connects to the cluster, disposes the connection and
/// turns exceptions into exit codes (<see cref="ExitCodes"/>).
/// </summary>
internal sealed class CommandRunner(CliContext context, GlobalOptions globals)
{
    public CliContext Context => context;
    public GlobalOptions Globals => globals;

    /// <summary>
    /// A command that talks to one datacenter through <see cref="IMeridianClient"/>. <paramref name="fields"/> names the
    /// option behind each API field, for the server's validation problems.
    /// </summary>
    public void OnClient(Command command, Func<CommandRun, IMeridianClient, Task> body, ApiFields? fields = null)
        => OnClient(command, async (run, client) =>
        {
            await body(run, client);
            return ExitCodes.Ok;
        }, fields);

    /// <summary>A command that talks to one datacenter and decides its own exit code when it succeeds.</summary>
    public void OnClient(Command command, Func<CommandRun, IMeridianClient, Task<int>> body, ApiFields? fields = null)
        => command.SetAction((parse, ct) => RunAsync(parse, ct, async (run, settings) =>
        {
            await using var connection = await context.Clients.ConnectAsync(settings, ct);
            try
            {
                return await body(run, connection.Client);
            }
            catch (MeridianValidationException invalid) when (fields is not null)
            {
                throw fields.Rename(invalid);
            }
        }));

    /// <summary>A command that does not need a connection (it may open its own through <see cref="CliContext.Clients"/>).</summary>
    public void OnRun(Command command, Func<CommandRun, ConnectionSettings, Task<int>> body)
        => command.SetAction((parse, ct) => RunAsync(parse, ct, body));

    private async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<CommandRun, ConnectionSettings, Task<int>> body)
    {
        ConnectionSettings? settings = null;
        try
        {
            settings = globals.Resolve(parse, context.Environment, context.ConnectTimeout);
            var run = new CommandRun(parse, new Output(context.Out, parse.GetValue(globals.Json)), context, ct);
            var code = await body(run, settings);
            await context.Out.FlushAsync(CancellationToken.None);
            return code;
        }
        catch (Exception ex)
        {
            return ExitCodes.Report(ex, context.Error, settings);
        }
    }
}
