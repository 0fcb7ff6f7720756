using System.CommandLine;
using System.Globalization;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary><c>meridian ca …</c>: roots, configuration and rotation of the Connect CA.</summary>
internal static class CaCommands
{
    public static Command Create(CommandRunner runner)
    {
        var config = new Command("config", "Show or change the CA configuration");
        config.Subcommands.Add(ConfigGet(runner));
        config.Subcommands.Add(ConfigSet(runner));
        var ca = new Command("ca", "The Connect certificate authority");
        ca.Subcommands.Add(Roots(runner));
        ca.Subcommands.Add(config);
        ca.Subcommands.Add(Rotate(runner));
        ca.Subcommands.Add(AdoptPrimary(runner));
        return ca;
    }

    /// <summary>Every root not yet pruned, each followed by its intermediates: Consul's <c>?pem=true</c>.</summary>
    public static IEnumerable<string> PemChain(CaRootListDto roots)
        => roots.Roots.SelectMany(r => new[] { r.RootCert }.Concat(r.IntermediateCerts));

    private static Command Roots(CommandRunner runner)
    {
        var pem = new Option<bool>("--pem") { Description = "Print every root followed by its intermediates as PEM" };
        var command = new Command("roots", "Show the CA roots (public material only)") { pem };
        runner.OnClient(command, async (run, client) =>
        {
            var roots = await client.GetCaRootsAsync(run.CancellationToken);
            if (run.Get(pem))
            {
                foreach (var cert in PemChain(roots)) run.Output.Pem(cert);
                return;
            }
            run.Output.Write(roots, WriteRoots);
        });
        return command;
    }

    private static Command Rotate(CommandRunner runner)
    {
        var command = new Command("rotate", "Rotate to a new root, cross-signed by the current one (primary datacenter)");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.RotateCaAsync(run.CancellationToken), WriteRoots));
        return command;
    }

    private static Command AdoptPrimary(CommandRunner runner)
    {
        var trustDomain = new Option<string>("--trust-domain")
        {
            Description = "The primary's trust domain to accept (`meridian status` in the primary shows it)", Required = true, HelpName = "<cluster-id>.consul",
        };
        var command = new Command("adopt-primary",
            "Secondary: accept on purpose a primary this datacenter refuses (another trust domain, or a root no trusted root cross-signed)")
        {
            trustDomain,
        };
        runner.OnClient(command, async (run, client) =>
        {
            var requested = run.Required(trustDomain);
            run.Output.Write(await client.AdoptPrimaryAsync(requested, run.CancellationToken), (o, status) =>
            {
                o.Line($"Accepted trust domain {requested.ToLowerInvariant()}: the next root-watch round re-pins {client.Datacenter} to it.");
                o.Fields(("Trust domain (now)", status.TrustDomain), ("Active root", status.ActiveRootID.Length == 0 ? "-" : status.ActiveRootID),
                    ("CA degraded", status.Degraded.Length == 0 ? null : status.Degraded));
            });
        }, new ApiFields(("--trust-domain", ["trust_domain"])));
        return command;
    }

    private static Command ConfigGet(CommandRunner runner)
    {
        var command = new Command("get", "Show the CA configuration");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetCaConfigurationAsync(run.CancellationToken), WriteConfiguration));
        return command;
    }

    private static Command ConfigSet(CommandRunner runner)
    {
        var leafTtl = CliParsers.DurationOption("--leaf-ttl", "LeafCertTTL, e.g. 72h");
        var intermediateTtl = CliParsers.DurationOption("--intermediate-ttl", "IntermediateCertTTL, e.g. 8760h");
        var rootTtl = CliParsers.DurationOption("--root-ttl", "RootCertTTL, e.g. 87600h");
        var keyType = new Option<string?>("--key-type") { Description = "PrivateKeyType: ec or rsa (a change rotates the root)", HelpName = "ec|rsa" };
        var keyBits = CliParsers.IntOption("--key-bits", "PrivateKeyBits: ec 224/256/384/521, rsa 2048/4096");
        var csrRate = CliParsers.IntOption("--csr-max-per-second", "CSRMaxPerSecond (0 = no limit)");
        var command = new Command("set", "Change the given fields of the CA configuration (primary datacenter)")
        {
            leafTtl, intermediateTtl, rootTtl, keyType, keyBits, csrRate,
        };
        runner.OnClient(command, async (run, client) =>
        {
            if (command.Options.All(o => run.Parse.GetResult(o) is null))
                throw new CliUsageException([new("ca config set", "give at least one of " + string.Join(", ", command.Options.Select(o => o.Name)))]);
            // Read-modify-write: fields not given keep their current values.
            var current = await client.GetCaConfigurationAsync(run.CancellationToken);
            var changed = current with
            {
                LeafCertTTL = run.Get(leafTtl) ?? current.LeafCertTTL,
                IntermediateCertTTL = run.Get(intermediateTtl) ?? current.IntermediateCertTTL,
                RootCertTTL = run.Get(rootTtl) ?? current.RootCertTTL,
                PrivateKeyType = run.Get(keyType) ?? current.PrivateKeyType,
                PrivateKeyBits = run.Get(keyBits) ?? current.PrivateKeyBits,
                CSRMaxPerSecond = run.Get(csrRate) ?? current.CSRMaxPerSecond,
            };
            run.Output.Write(await client.SetCaConfigurationAsync(changed, run.CancellationToken), WriteConfiguration);
        });
        return command;
    }

    private static void WriteRoots(Output o, CaRootListDto roots)
    {
        o.Fields(("TrustDomain", roots.TrustDomain), ("ActiveRootID", roots.ActiveRootID));
        foreach (var r in roots.Roots)
        {
            o.Line($"{(r.Active ? "*" : " ")} {r.ID}  {r.Name}  serial {r.SerialNumber}  " +
                $"{Output.Time(r.NotBefore)} .. {Output.Time(r.NotAfter)}  {r.IntermediateCerts.Length} intermediate(s)");
        }
    }

    private static void WriteConfiguration(Output o, CaConfigurationDto c) => o.Fields(
        ("Provider", c.Provider),
        ("ClusterID", c.ClusterID),
        ("LeafCertTTL", Output.Duration(c.LeafCertTTL)),
        ("IntermediateCertTTL", Output.Duration(c.IntermediateCertTTL)),
        ("RootCertTTL", Output.Duration(c.RootCertTTL)),
        ("PrivateKeyType", c.PrivateKeyType),
        ("PrivateKeyBits", c.PrivateKeyBits.ToString(CultureInfo.InvariantCulture)),
        ("CSRMaxPerSecond", c.CSRMaxPerSecond.ToString(CultureInfo.InvariantCulture)),
        ("CSRMaxConcurrent", c.CSRMaxConcurrent.ToString(CultureInfo.InvariantCulture)),
        ("ModifyIndex", c.ModifyIndex.ToString(CultureInfo.InvariantCulture)));
}
