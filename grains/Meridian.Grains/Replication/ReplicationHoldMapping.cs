using Meridian.Core.Federation;

namespace Meridian.Grains.Replication;

/// <summary>Core hold ↔ wire DTO (the DTO is also how a registry persists its hold).</summary>
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

    /// <summary>The Core hold of a persisted or received DTO (the names it kept, capped, stand for the diff's names).</summary>
    public static ReplicationHold ToCore(this ReplicationHoldDto dto) => new(
        dto.Reason switch
        {
            "first-sync" => ReplicationHoldReason.FirstSync,
            "primary-replaced" => ReplicationHoldReason.PrimaryReplaced,
            "index-reset" => ReplicationHoldReason.IndexReset,
            _ => ReplicationHoldReason.DeletesEverything,
        },
        new(dto.AppliedIndex, dto.AppliedEpoch), new(dto.PrimaryIndex, dto.PrimaryEpoch),
        new ReplicationDiff(dto.Deletes, dto.Adds, dto.Changes, dto.DeleteNames, dto.AddNames, dto.ChangeNames),
        dto.Since);
}
