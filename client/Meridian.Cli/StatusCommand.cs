using System.CommandLine;
using System.Globalization;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary><c>meridian status</c>: the datacenter's role, trust domain and CA state.</summary>
internal static class StatusCommand
{
    public static Command Create(CommandRunner runner)
    {
        var command = new Command("status", "Show the datacenter: primary, role, trust domain, CA state and signing CA expiry");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetStatusAsync(run.CancellationToken), Write));
        return command;
    }

    private static void Write(Output o, DatacenterStatusDto s)
    {
        WriteFields(o, s);
        foreach (var r in s.ReplicationStatuses()) ReplicationCommands.Write(o, r);
    }

    private static void WriteFields(Output o, DatacenterStatusDto s) => o.Fields(
        ("Datacenter", s.Datacenter),
        ("Primary", s.PrimaryDatacenter),
        ("Role", s.Role),
        ("Trust domain", s.TrustDomain),
        ("CA state", s.Ca.State),
        ("Active root", s.Ca.ActiveRootID.Length == 0 ? "-" : s.Ca.ActiveRootID),
        ("Signing CA expiry", Output.Time(s.Ca.SigningCaExpiry)),
        ("Intentions", string.Create(CultureInfo.InvariantCulture, $"{s.IntentionCount} (index {s.IntentionIndex})")),
        ("Storage", s.StorageProvider),
        ("Rotation progress", s.RotationProgress is { } p
            ? string.Create(CultureInfo.InvariantCulture, $"{p.OnActiveRoot}/{p.Total} certificates on the active root") : null),
        ("Degraded", NullIfEmpty(s.Degraded)),
        ("CA degraded", NullIfEmpty(s.Ca.Degraded)));

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
