using System.CommandLine;
using Meridian.Client;
using Meridian.Core.Identity;

namespace Meridian.Cli;

/// <summary>Where and as whom a command connects: the resolved global options.</summary>
internal sealed record ConnectionSettings(IReadOnlyList<string> Gateways, string Datacenter, string? Token, TimeSpan ConnectTimeout,
    TlsFiles? Tls = null)
{
    /// <summary>The gateways as the user wrote them, for messages.</summary>
    public string GatewayText => string.Join(",", Gateways);

    /// <summary>The SDK's options for these settings.</summary>
    public MeridianClientOptions ToClientOptions() => new()
    {
        Gateways = [.. Gateways],
        Datacenter = Datacenter,
        Token = Token,
        CaFile = Tls?.CaFile,
        ClientCertFile = Tls?.ClientCert,
        ClientKeyFile = Tls?.ClientKey,
        ConnectTimeout = ConnectTimeout,
    };
}

/// <summary>Connecting with the CLI's resolved settings.</summary>
internal static class ClientFactoryExtensions
{
    /// <summary>Connects to the datacenter of <paramref name="settings"/>.</summary>
    public static Task<MeridianConnection> ConnectAsync(this IMeridianClientFactory factory, ConnectionSettings settings, CancellationToken cancellationToken)
        => factory.ConnectAsync(settings.ToClientOptions(), cancellationToken);
}

/// <summary>The transport TLS files of a connection: the CA always, the client certificate and key when given.</summary>
internal sealed record TlsFiles(string CaFile, string? ClientCert, string? ClientKey);

/// <summary>
/// <c>--gateway</c>, <c>--datacenter</c>, <c>--token</c>, <c>--json</c>, valid on every command. Defaults come from
/// <c>MERIDIAN_GATEWAY</c>, <c>MERIDIAN_DATACENTER</c>, <c>MERIDIAN_TOKEN</c>; they are resolved when a command runs
/// (not as option defaults) so the token never appears in <c>--help</c>, and an environment value is checked as
/// strictly as a typed one.
/// </summary>
internal sealed class GlobalOptions
{
    public const string GatewayVariable = "MERIDIAN_GATEWAY";
    public const string DatacenterVariable = "MERIDIAN_DATACENTER";
    public const string TokenVariable = "MERIDIAN_TOKEN";
    public const string TokenFileVariable = "MERIDIAN_TOKEN_FILE";
    public const string CaFileVariable = "MERIDIAN_CACERT";
    public const string ClientCertVariable = "MERIDIAN_CLIENT_CERT";
    public const string ClientKeyVariable = "MERIDIAN_CLIENT_KEY";
    public const string DefaultGateway = "127.0.0.1:30000";
    public const string DefaultDatacenter = "dc1";

    public Option<string?> Gateway { get; } = new("--gateway")
    {
        Description = $"Gateway of the datacenter, HOST:PORT (several: comma-separated). Default: ${GatewayVariable}, else {DefaultGateway}",
        HelpName = "HOST:PORT",
        Recursive = true,
    };

    public Option<string?> Datacenter { get; } = new("--datacenter")
    {
        Description = $"Datacenter to talk to. Default: ${DatacenterVariable}, else {DefaultDatacenter}",
        HelpName = "NAME",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"ACL token sent with every call. Default: ${TokenVariable}",
        Recursive = true,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = $"File holding the ACL token (Consul's -token-file); --token wins over it. Default: ${TokenFileVariable}",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string?> CaFile { get; } = new("--ca-file")
    {
        Description = $"CA certificate of the gateway's TLS (turns TLS on; like consul -ca-file). Default: ${CaFileVariable}",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string?> ClientCert { get; } = new("--client-cert")
    {
        Description = $"Client certificate for a gateway that verifies incoming connections. Default: ${ClientCertVariable}",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string?> ClientKey { get; } = new("--client-key")
    {
        Description = $"Private key of --client-cert. Default: ${ClientKeyVariable}",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON with Consul's field names",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(Gateway);
        root.Options.Add(Datacenter);
        root.Options.Add(Token);
        root.Options.Add(TokenFile);
        root.Options.Add(CaFile);
        root.Options.Add(ClientCert);
        root.Options.Add(ClientKey);
        root.Options.Add(Json);
    }

    /// <summary>Resolves the options against the environment; every bad value is reported, naming its option or variable.</summary>
    public ConnectionSettings Resolve(ParseResult parse, Func<string, string?> environment, TimeSpan connectTimeout)
    {
        var problems = new List<CliProblem>();
        var (gatewayField, gatewayText) = Pick(parse, Gateway, environment, GatewayVariable, DefaultGateway);
        var gateways = gatewayText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (gateways.Length == 0) problems.Add(new(gatewayField, "must be HOST:PORT, e.g. 127.0.0.1:30000"));
        foreach (var gateway in gateways)
        {
            if (MeridianClientOptions.CheckEndpoint(gateway) is { } message) problems.Add(new(gatewayField, message));
        }
        var (datacenterField, datacenter) = Pick(parse, Datacenter, environment, DatacenterVariable, DefaultDatacenter);
        // The datacenter names the cluster (meridian-<dc>) and every grain key: Core's rule, checked before connecting.
        if (DatacenterName.Check(datacenterField, datacenter.Trim()) is { } invalid) problems.Add(new(datacenterField, CliProblem.WithoutField(invalid)));
        var tls = ResolveTls(parse, environment, problems);
        var token = ResolveToken(parse, environment, problems);
        CliUsageException.ThrowIfAny(problems);
        return new ConnectionSettings(gateways, datacenter.Trim(), string.IsNullOrEmpty(token) ? null : token, connectTimeout, tls);
    }

    // Consul's order: -token, -token-file, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE. The token is never printed.
    private string? ResolveToken(ParseResult parse, Func<string, string?> environment, List<CliProblem> problems)
    {
        if (parse.GetValue(Token) is { Length: > 0 } typed) return typed;
        if (parse.GetValue(TokenFile) is { Length: > 0 } file) return ReadTokenFile(TokenFile.Name, file, problems);
        if (environment(TokenVariable) is { Length: > 0 } fromEnvironment) return fromEnvironment;
        if (environment(TokenFileVariable) is { Length: > 0 } fileFromEnvironment) return ReadTokenFile(TokenFileVariable, fileFromEnvironment, problems);
        return null;
    }

    private static string? ReadTokenFile(string field, string path, List<CliProblem> problems)
    {
        try
        {
            var token = File.ReadAllText(path).Trim();
            if (token.Length > 0) return token;
            problems.Add(new(field, $"{Path.GetFullPath(path)} is empty; it must hold the token's SecretID"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add(new(field, $"cannot read {Path.GetFullPath(path)}: {e.Message}"));
        }
        return null;
    }

    // Like Consul's CLI: the files are checked here, so a typo is bad input (exit 2), not an unreachable gateway.
    private TlsFiles? ResolveTls(ParseResult parse, Func<string, string?> environment, List<CliProblem> problems)
    {
        var (caField, ca) = Pick(parse, CaFile, environment, CaFileVariable, "");
        var (certField, cert) = Pick(parse, ClientCert, environment, ClientCertVariable, "");
        var (keyField, key) = Pick(parse, ClientKey, environment, ClientKeyVariable, "");
        foreach (var (field, path) in new[] { (caField, ca), (certField, cert), (keyField, key) })
        {
            if (path.Length > 0 && !File.Exists(path)) problems.Add(new(field, $"{Path.GetFullPath(path)} does not exist or is not a file"));
        }
        if ((cert.Length == 0) != (key.Length == 0))
            problems.Add(new(cert.Length == 0 ? ClientCert.Name : ClientKey.Name, "--client-cert and --client-key go together"));
        if (ca.Length == 0)
        {
            if (cert.Length > 0) problems.Add(new(CaFile.Name, "is required with --client-cert (the CA that signed the gateway's certificate)"));
            return null;
        }
        return new TlsFiles(ca, cert.Length > 0 ? cert : null, key.Length > 0 ? key : null);
    }

    private static (string Field, string Value) Pick(
        ParseResult parse, Option<string?> option, Func<string, string?> environment, string variable, string fallback)
    {
        if (parse.GetResult(option) is { Implicit: false }) return (option.Name, parse.GetValue(option) ?? "");
        return environment(variable) is { Length: > 0 } fromEnvironment ? (variable, fromEnvironment) : (option.Name, fallback);
    }
}
