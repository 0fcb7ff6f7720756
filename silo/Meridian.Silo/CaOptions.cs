using Meridian.Core.Certificates;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// The CA configuration a new primary starts with (section <c>Meridian:Ca</c>; later changes go through
/// <c>meridian ca config set</c>, as Consul's agent-file CA config only bootstraps). Keys and defaults, Consul's:
/// <c>LeafCertTTL</c> (72h), <c>IntermediateCertTTL</c> (8760h), <c>RootCertTTL</c> (87600h), <c>PrivateKeyType</c>
/// (ec), <c>PrivateKeyBits</c> (256), <c>CSRMaxPerSecond</c> (50, 0 = off), <c>CSRMaxConcurrent</c> (0).
/// Durations are Go durations (<c>72h</c>, <c>90m</c>).
/// </summary>
public static class CaOptions
{
    public const string SectionName = "Meridian:Ca";

    /// <summary>Reads and validates the section; problems name the full key (<c>Meridian:Ca:LeafCertTTL: ...</c>).</summary>
    public static IReadOnlyList<string> TryRead(IConfiguration configuration, out CaConfiguration? result)
    {
        var section = configuration.GetSection(SectionName);
        List<string> problems = [];
        var input = new CaConfigurationInput(
            section["LeafCertTTL"], section["IntermediateCertTTL"], section["RootCertTTL"], section["PrivateKeyType"],
            ConfigValues.ReadOptional<int>(section, "PrivateKeyBits", problems), ConfigValues.ReadOptional<double>(section, "CSRMaxPerSecond", problems),
            ConfigValues.ReadOptional<int>(section, "CSRMaxConcurrent", problems));
        problems.AddRange(CaConfiguration.TryCreate(input, out result).Select(p => $"{SectionName}:{p.Field}: {p.Message}"));
        if (problems.Count > 0) result = null;
        return problems;
    }
}
