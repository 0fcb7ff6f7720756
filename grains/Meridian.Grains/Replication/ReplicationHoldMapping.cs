using Meridian.Core.Federation;

namespace Meridian.Grains.Replication;

/// <summary>Core hold → wire DTO.</summary>
internal static class ReplicationHoldMapping
{
    /// <summary>The DTO of <paramref name="hold"/> in <paramref name="datacenter"/>, with the one-line message.</summary>
    public static ReplicationHoldDto ToDto(this ReplicationHold hold, string datacenter) => new()
    {
        Reason = hold.Reason switch
        {
            ReplicationHoldReason.FirstSync => "first-sync",
            ReplicationHoldReason.PrimaryReplaced => "primary-replaced",
            ReplicationHoldReason.IndexReset => "index-reset",
            _ => "deletes-everything",
        },
        Summary = hold.Summary,
        AppliedIndex = hold.From.Index, AppliedEpoch = hold.From.Epoch,
        PrimaryIndex = hold.To.Index, PrimaryEpoch = hold.To.Epoch,
        Deletes = hold.Diff.Deletes, Adds = hold.Diff.Adds, Changes = hold.Diff.Changes,
        DeleteNames = hold.Diff.DeleteNames, AddNames = hold.Diff.AddNames, ChangeNames = hold.Diff.ChangeNames,
        Since = hold.Since,
        Message = $"{hold.Summary}: applying it would {hold.Diff.Describe()} in {datacenter}, which keeps what it holds until " +
            $"`meridian replication adopt` (or Meridian:Replication:AdoptPrimaryState=true)",
    };
}
