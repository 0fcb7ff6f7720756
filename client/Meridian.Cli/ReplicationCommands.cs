using System.CommandLine;
using System.Globalization;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian replication status</c>: one status object per replicator (Consul's `/v1/acl/replication` fields); <c>meridian replication adopt</c>:
/// apply what each replicated type held back from a replaced or reset primary.
/// </summary>
internal static class ReplicationCommands
{
    public static Command Create(CommandRunner runner)
    {
        var status = new Command("status", "Show replication from the primary into this datacenter (each replicated type, and CA roots)");
        runner.OnClient(status, async (run, client) =>
            run.Output.Write(await client.GetReplicationStatusAsync(run.CancellationToken), (o, list) =>
            {
                if (list.Count == 0) o.Line($"{client.Datacenter} is the primary: nothing is replicated into it");
                foreach (var r in list) Write(o, r);
            }));
        var adopt = new Command("adopt",
            "Apply, once, what a replaced or reset primary would impose (held back; see `replication status`): exit 0 when " +
            "adopted or nothing is held, 1 when the primary changed again since it was held");
        runner.OnClient(adopt, async (run, client) =>
        {
            var result = await client.AdoptPrimaryStateAsync(run.CancellationToken);
            run.Output.Write(result, (o, r) =>
            {
                // Several replicated types: each one's answer; one: it alone.
                foreach (var t in r.Types.IsDefaultOrEmpty ? [r] : r.Types)
                {
                    o.Line(r.Types.IsDefaultOrEmpty ? t.Message : $"{t.ReplicationType}: {t.Message}");
                    if (t.Hold is { } held) WriteHeld(o, held, t.Adopted ? "  Adopted" : "  Still held");
                }
            });
            // Not adopted although something is held: the primary moved to another store since; the operator looks again.
            return result.Adopted || result.Hold is null ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return new Command("replication", "Replication from the primary datacenter") { status, adopt };
    }

    /// <summary>
    /// Human form of one replicator's status (also used by <c>meridian status</c>). Lag is the primary's index in its
    /// last answer minus the index applied here, so a round that fails to apply still shows how far behind it is.
    /// As Consul's <c>/v1/acl/replication</c>, the last error's time and message stay after a later round succeeds
    /// (<c>LastError</c> older than <c>LastSuccess</c> means healthy); the text says so, as the dashboard does.
    /// </summary>
    public static void Write(Output o, ReplicationStatusDto r)
    {
        o.Fields(
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
            ("  Last error message", r.LastErrorMessage.Length == 0 ? null
                : r.LastSuccess > r.LastError ? $"{r.LastErrorMessage} (recovered: the last success is later)" : r.LastErrorMessage));
        if (r.Held is { } held) WriteHeld(o, held, "  Held");
    }

    // `Held: held: primary replaced (epoch a→b) since …` then the counts and the (capped) names of each kind.
    private static void WriteHeld(Output o, ReplicationHoldDto h, string label) => o.Fields(
        (label, $"{h.Summary} since {Output.Time(h.Since)}"),
        ("    Would delete", Counted(h.Deletes, h.DeleteNames)),
        ("    Would add", Counted(h.Adds, h.AddNames)),
        ("    Would change", Counted(h.Changes, h.ChangeNames)),
        ("    Apply with", label == "  Held" ? "meridian replication adopt" : null));

    private static string Counted(int count, IReadOnlyCollection<string> names)
        => count == 0 ? "0" : $"{count} ({string.Join(", ", names.Select(Output.Printable))}{(count > names.Count ? $", and {count - names.Count} more" : "")})";

    private static string Never(DateTimeOffset t) => t == DateTimeOffset.MinValue ? "never" : Output.Time(t) ?? "never";
}
