using System.Collections.Immutable;
using Meridian.Core.Intentions;

namespace Meridian.Core.Tests.Intentions;

/// <summary>Small builders for intention tests.</summary>
internal static class IntentionTestData
{
    public static SourceIntention Src(string name, IntentionAction action = IntentionAction.Allow, string ns = "",
        string partition = "", string srcDc = "", string dstDc = "")
        => new() { Name = name, Namespace = ns, Partition = partition, Action = action, SourceDatacenter = srcDc, DestinationDatacenter = dstDc };

    public static SourceIntention L7(string name, string ns = "")
        => new()
        {
            Name = name,
            Namespace = ns,
            Permissions = [new IntentionPermission { Action = IntentionAction.Allow, HTTP = new IntentionHttpPermission { PathPrefix = "/v2" } }],
        };

    public static ServiceIntentionsEntry Entry(string name, params SourceIntention[] sources)
        => new() { Name = name, Sources = [.. sources] };

    public static ServiceIntentionsEntry EntryIn(string ns, string name, params SourceIntention[] sources)
        => new() { Namespace = ns, Name = name, Sources = [.. sources] };

    public static ServiceIntentionsEntry Valid(ServiceIntentionsEntry entry) => IntentionRules.CreateEntry(entry);

    /// <summary>A flat intention with computed precedence.</summary>
    public static Intention Flat(string srcNs, string src, string dstNs, string dst, IntentionAction action = IntentionAction.Allow,
        string srcDc = "", string dstDc = "")
        => IntentionRules.Normalize(new Intention
        {
            SourceNS = srcNs, SourceName = src, DestinationNS = dstNs, DestinationName = dst, Action = action,
            SourceDatacenter = srcDc, DestinationDatacenter = dstDc,
        });

    public static ImmutableArray<Intention> Sorted(params Intention[] intentions)
        => [.. intentions.OrderBy(i => i, IntentionPrecedenceComparer.Instance)];

    public static IReadOnlyDictionary<string, string> Meta(int count, int keyLength = 3, int valueLength = 1)
        => Enumerable.Range(0, count).ToDictionary(i => $"k{i}".PadRight(keyLength, 'x'), _ => new string('v', valueLength));
}
