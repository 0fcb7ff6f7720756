using System.Net;
using Meridian.Core.Identity;
using Microsoft.Extensions.Options;

namespace Meridian.Silo;

/// <summary>Who this datacenter is. Section <c>Meridian</c>.</summary>
public sealed class MeridianOptions
{
    public const string SectionName = "Meridian";

    /// <summary>This datacenter's name (required; lower-case letters, digits, '-' and '_', 1-64 characters).</summary>
    public string Datacenter { get; set; } = "";

    /// <summary>
    /// The primary datacenter (required). This datacenter is the primary iff the two names are equal; a secondary
    /// must be told the same primary as every other datacenter (a mismatch is reported, never a second trust domain).
    /// </summary>
    public string PrimaryDatacenter { get; set; } = "";

    /// <summary>
    /// Consul's <c>default_intention_policy</c>: <c>allow</c>, <c>deny</c> or empty (then the ACL default decides;
    /// with ACLs off that is allow). Default: empty.
    /// </summary>
    public string DefaultIntentionPolicy { get; set; } = "";

    /// <summary>Orleans ServiceId shared by every datacenter's cluster. Default: <c>meridian</c>.</summary>
    public string ServiceId { get; set; } = "meridian";

    /// <summary>Orleans ClusterId of this datacenter. Default: <c>meridian-&lt;Datacenter&gt;</c>.</summary>
    public string? ClusterId { get; set; }

    /// <summary>The effective ClusterId.</summary>
    public string EffectiveClusterId => string.IsNullOrEmpty(ClusterId) ? $"meridian-{Datacenter}" : ClusterId;
}

/// <summary>Where state lives. Section <c>Meridian:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Meridian:Storage";

    /// <summary>
    /// <c>PostgreSql</c> or <c>Memory</c> (lost when the process exits). No default: a production silo that silently
    /// kept its CA and intentions in memory lost them at the first restart, so <c>Memory</c> must be written out (and
    /// is logged as a warning at every start); <c>meridian dev</c> sets it for its own silos.
    /// </summary>
    public string Provider { get; set; } = "";

    /// <summary>True for the memory provider, written explicitly.</summary>
    public bool IsMemory => string.Equals(Provider, "Memory", StringComparison.OrdinalIgnoreCase);

    /// <summary>Npgsql connection string; required with <c>PostgreSql</c>. Never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>With <c>PostgreSql</c>: create the schema from the embedded <c>sql/postgresql</c> scripts when it is missing. Default: true.</summary>
    public bool CreateSchema { get; set; } = true;

    /// <summary>True for the PostgreSQL provider.</summary>
    public bool IsPostgreSql => string.Equals(Provider, "PostgreSql", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The federation a primary serves. Section <c>Meridian:Federation</c> (read only in the primary).</summary>
public sealed class FederationOptions
{
    public const string SectionName = "Meridian:Federation";

    /// <summary>
    /// The secondary datacenters that may have their intermediate CA certificate signed by this primary and report
    /// rotation progress to it. Default: none (a primary without the list signs no secondary's intermediate; the
    /// refusal names this option). Ignored in a secondary.
    /// </summary>
    public List<string> Datacenters { get; set; } = [];
}

/// <summary>Network endpoints. Section <c>Meridian:Endpoints</c>.</summary>
public sealed class EndpointOptions
{
    public const string SectionName = "Meridian:Endpoints";

    /// <summary>
    /// Address the silo, gateway and HTTP listeners bind (Consul's <c>bind_addr</c>); <c>0.0.0.0</c> binds every
    /// interface (in a container). Also the advertised address unless that is set or this is <c>0.0.0.0</c>.
    /// Default: <c>127.0.0.1</c>.
    /// </summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>
    /// Address peers and clients are told to connect to (Consul's <c>advertise_addr</c>). Default: <see cref="Address"/>,
    /// or with <c>0.0.0.0</c> the host's private address (a container's own; several are refused as ambiguous).
    /// </summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Silo-to-silo port. Default: 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port (the CLI and SDK connect here). Default: 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>HTTP port for <c>/dashboard</c> and <c>/health</c>. 0 disables HTTP. Default: 8500.</summary>
    public int HttpPort { get; set; } = 8500;
}

internal sealed class MeridianOptionsValidator : IValidateOptions<MeridianOptions>
{
    public ValidateOptionsResult Validate(string? name, MeridianOptions o)
    {
        List<string> errors = [];
        if (DatacenterName.Check("Meridian:Datacenter", o.Datacenter) is { } dc) errors.Add(dc.ToString());
        if (DatacenterName.Check("Meridian:PrimaryDatacenter", o.PrimaryDatacenter) is { } p) errors.Add(p.ToString());
        if (o.DefaultIntentionPolicy is not ("" or "allow" or "deny"))
            errors.Add($"Meridian:DefaultIntentionPolicy: Unsupported default intention policy: {o.DefaultIntentionPolicy} (use allow, deny or leave it empty)");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) errors.Add("Meridian:ServiceId must be set");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        List<string> errors = [];
        if (string.IsNullOrWhiteSpace(o.Provider))
            errors.Add("Meridian:Storage:Provider must be set: PostgreSql (with Meridian:Storage:ConnectionString) to keep the datacenter's state, or Memory to run without persistence (everything is lost when the silo stops)");
        else if (!o.IsMemory && !o.IsPostgreSql)
            errors.Add($"Meridian:Storage:Provider \"{o.Provider}\" is not supported: use Memory or PostgreSql");
        if (o.IsPostgreSql && string.IsNullOrWhiteSpace(o.ConnectionString))
            errors.Add("Meridian:Storage:ConnectionString must be set when Meridian:Storage:Provider is PostgreSql (e.g. Host=127.0.0.1;Port=5432;Database=meridian;Username=meridian;Password=...)");
        else if (o.IsPostgreSql && ConnectionStringProblem(o.ConnectionString!) is { } problem)
            errors.Add($"Meridian:Storage:ConnectionString is not an Npgsql connection string: {problem}");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // Npgsql's parse errors name the keyword, never a value, so the message cannot leak the password.
    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}

internal sealed class EndpointOptionsValidator : IValidateOptions<EndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, EndpointOptions o)
    {
        List<string> errors = [];
        if (!IPAddress.TryParse(o.Address, out _)) errors.Add($"Meridian:Endpoints:Address \"{o.Address}\" is not an IP address");
        if (!string.IsNullOrWhiteSpace(o.AdvertiseAddress) && !IPAddress.TryParse(o.AdvertiseAddress, out _))
            errors.Add($"Meridian:Endpoints:AdvertiseAddress \"{o.AdvertiseAddress}\" is not an IP address");
        if (o.SiloPort is < 1 or > 65535) errors.Add("Meridian:Endpoints:SiloPort must be between 1 and 65535");
        if (o.GatewayPort is < 1 or > 65535) errors.Add("Meridian:Endpoints:GatewayPort must be between 1 and 65535");
        if (o.HttpPort is < 0 or > 65535) errors.Add("Meridian:Endpoints:HttpPort must be between 0 (off) and 65535");
        if (o.SiloPort == o.GatewayPort) errors.Add("Meridian:Endpoints:SiloPort and GatewayPort must differ");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
