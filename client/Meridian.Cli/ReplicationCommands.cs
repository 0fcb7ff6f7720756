using System.CommandLine;
using System.Globalization;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary><c>meridian replication status</c>: one status object per replicator (SPEC §2.6).</summary>
internal static class ReplicationCommands
{
    public static Command Create(CommandRunner runner)
    {
        var status = new Command("status", "Show replication from the primary into this datacenter (intentions and CA roots)");
        runner.OnClient(status, async (run, client) =>
            run.Output.Write(await client.GetReplicationStatusAsync(run.CancellationToken), (o, list) =>
            {
                if (list.Count == 0) o.Line($"{client.Datacenter} is the primary: nothing is replicated into it");
                foreach (var r in list) Write(o, r);
            }));
        return new Command("replication", "Replication from the primary datacenter") { status };
    }

    /// <summary>
    /// Human form of one replicator's status (also used by <c>meridian status</c>). Lag is the primary's index in its
    /// last answer minus the index applied here, so a round that fails to apply still shows how far behind it is.
    /// </summary>
    public static void Write(Output o, ReplicationStatusDto r) => o.Fields(
        ("Replication", r.ReplicationType),
        ("  Enabled", r.Enabled ? "true" : "false"),
        ("  Running", r.Running ? "true" : "false"),
        ("  Source datacenter", r.SourceDatacenter),
        ("  Replicated index", r.ReplicatedIndex.ToString(CultureInfo.InvariantCulture)),
        ("  Primary index", r.PrimaryIndex.ToString(CultureInfo.InvariantCulture)),
        ("  Primary epoch", r.PrimaryEpoch.Length == 0 ? null : r.PrimaryEpoch),
        ("  Lag", r.Lag.ToString(CultureInfo.InvariantCulture)),
        ("  Last success", Never(r.LastSuccess)),
        ("  Last success age", r.LastSuccessAge is { } age ? Output.Duration(age) : null),
        ("  Last error", Never(r.LastError)),
        ("  Last error message", r.LastErrorMessage.Length == 0 ? null : r.LastErrorMessage));

    private static string Never(DateTimeOffset t) => t == DateTimeOffset.MinValue ? "never" : Output.Time(t) ?? "never";
}
