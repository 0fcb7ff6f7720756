using System.Text.Json;

namespace Meridian.Grains.Tests.Federation;

/// <summary>An intention's content, without the per-datacenter indexes (each datacenter stamps its own).</summary>
public sealed record IntentionContent(
    string Source, string Destination, string SourceDatacenter, string DestinationDatacenter, string SourceType,
    string Action, string Description, int Precedence, string Meta, string Permissions)
{
    public static IntentionContent Of(IntentionDto i) => new(
        $"{i.SourcePartition}/{i.SourceNS}/{i.SourceName}", $"{i.DestinationPartition}/{i.DestinationNS}/{i.DestinationName}",
        i.SourceDatacenter, i.DestinationDatacenter, i.SourceType, i.Action, i.Description, i.Precedence,
        string.Join(",", i.Meta.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
        JsonSerializer.Serialize(i.Permissions));

    /// <summary>The content of a datacenter's list, in a stable order.</summary>
    public static async Task<IReadOnlyList<IntentionContent>> OfAsync(DatacenterCluster dc)
        => [.. (await dc.Registry.ListAsync()).Intentions.Select(Of).OrderBy(c => c.ToString(), StringComparer.Ordinal)];

    /// <summary>Waits until <paramref name="secondary"/> lists exactly what <paramref name="primary"/> lists.</summary>
    public static async Task ConvergedAsync(DatacenterCluster primary, DatacenterCluster secondary)
    {
        IReadOnlyList<IntentionContent> expected = [], actual = [];
        await Poll.UntilAsync(
            async () =>
            {
                (expected, actual) = (await OfAsync(primary), await OfAsync(secondary));
                return expected.SequenceEqual(actual);
            },
            () => Task.FromResult($"{secondary.Name} lists {actual.Count} intentions, {primary.Name} {expected.Count}; " +
                $"only in {primary.Name}: [{string.Join("; ", expected.Except(actual))}], only in {secondary.Name}: [{string.Join("; ", actual.Except(expected))}]"),
            // Wakes on the secondary's next change (its registry's long-poll), else re-checks after a second.
            async ct => await secondary.Registry.WaitForChangesAsync((await secondary.Registry.ListAsync(ct)).Index, TimeSpan.FromSeconds(1), ct));
    }
}
