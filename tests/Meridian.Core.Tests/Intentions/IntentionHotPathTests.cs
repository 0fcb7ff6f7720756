using Meridian.Core.Intentions;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionHotPathTests
{
    [Theory]
    [InlineData("web", true)]
    [InlineData("other", false)]
    [InlineData("admin", false)]
    public void Decide_RepeatedOverSortedList_AllocatesNothing(string source, bool allowed)
    {
        var sorted = IntentionMatcher.MatchByDestination(
            [Valid(Entry("db", Src("web"), Src("web", IntentionAction.Deny, srcDc: "dc1"), L7("admin"), Src("*", IntentionAction.Deny)))],
            new ServiceSelector("default", "db"));
        var src = new IntentionSource("default", source, Datacenter: "dc2");
        var defaults = new IntentionDefault(true, false);
        var warm = IntentionEvaluator.Decide(sorted.AsSpan(), src, "dc2", defaults);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var allowedCount = 0;
        for (var i = 0; i < 10_000; i++)
            if (IntentionEvaluator.Decide(sorted.AsSpan(), src, "dc2", defaults).Allowed) allowedCount++;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(allowed, warm.Allowed);
        Assert.Equal(allowed ? 10_000 : 0, allowedCount);
        Assert.Equal(0, allocated);
    }
}
