using Meridian.Core.Intentions;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionPrecedenceTests
{
    [Theory]
    [InlineData("ns", "web", "ns", "db", 9)]
    [InlineData("ns", "*", "ns", "db", 8)]
    [InlineData("*", "*", "ns", "db", 7)]
    [InlineData("ns", "web", "ns", "*", 6)]
    [InlineData("ns", "*", "ns", "*", 5)]
    [InlineData("*", "*", "ns", "*", 4)]
    [InlineData("ns", "web", "*", "*", 3)]
    [InlineData("ns", "*", "*", "*", 2)]
    [InlineData("*", "*", "*", "*", 1)]
    public void Compute_Pattern_MatchesSpecTable(string srcNs, string src, string dstNs, string dst, int expected)
    {
        Assert.Equal(expected, IntentionPrecedence.Compute(srcNs, src, dstNs, dst));
        Assert.Equal(expected, Flat(srcNs, src, dstNs, dst).Precedence);
    }

    [Theory]
    [InlineData("*", "*", 0)]
    [InlineData("default", "*", 1)]
    [InlineData("default", "web", 2)]
    [InlineData("", "web", 2)]
    public void CountExact_Pattern_CountsExactParts(string ns, string name, int expected)
        => Assert.Equal(expected, IntentionPrecedence.CountExact(ns, name));

    [Theory]
    [InlineData("web", "", "", 9)]
    [InlineData("*", "", "", 8)]
    [InlineData("*", "*", "", 7)]
    public void Normalize_EntrySource_ComputesPrecedenceFromInheritedNamespace(string src, string srcNs, string dstNs, int expected)
    {
        var entry = Valid(EntryIn(dstNs, "db", Src(src, ns: srcNs)));
        Assert.Equal(expected, entry.Sources[0].Precedence);
    }

    [Theory]
    [InlineData("dc1", "", 9)]
    [InlineData("", "dc2", 9)]
    [InlineData("dc1", "dc2", 9)]
    public void Compute_DatacenterScoped_KeepsConsulPrecedence(string srcDc, string dstDc, int expected)
        => Assert.Equal(expected, Flat("default", "web", "default", "db", srcDc: srcDc, dstDc: dstDc).Precedence);

    [Fact]
    public void Normalize_ClientSuppliedPrecedence_IsRecomputed()
    {
        var entry = Valid(Entry("db", Src("web") with { Precedence = 1 }));
        var flat = IntentionRules.Normalize(new Intention { SourceNS = "a", SourceName = "*", DestinationNS = "a", DestinationName = "b", Precedence = 99 });
        Assert.Equal(9, entry.Sources[0].Precedence);
        Assert.Equal(8, flat.Precedence);
    }
}

[Trait("Category", "Unit")]
public sealed class IntentionOrderingTests
{
    public static TheoryData<Intention, Intention> OrderedPairs() => new()
    {
        // precedence descending
        { Flat("default", "web", "default", "db"), Flat("default", "*", "default", "db") },
        { Flat("default", "*", "default", "*"), Flat("*", "*", "*", "*") },
        // equal precedence: ordinal (SourcePartition, SourceNS, SourceName, DestinationPartition, DestinationNS, DestinationName)
        { Flat("a", "web", "default", "db"), Flat("b", "web", "default", "db") },
        { Flat("default", "api", "default", "db"), Flat("default", "web", "default", "db") },
        { Flat("default", "web", "a", "db"), Flat("default", "web", "b", "db") },
        { Flat("default", "web", "default", "api"), Flat("default", "web", "default", "db") },
        { Flat("default", "Web", "default", "db"), Flat("default", "web", "default", "db") },
        { Flat("default", "web", "default", "db") with { SourcePartition = "alpha" }, Flat("default", "web", "default", "db") with { SourcePartition = "beta" } },
        { Flat("default", "web", "default", "db") with { DestinationPartition = "alpha" }, Flat("default", "web", "default", "db") with { DestinationPartition = "beta" } },
        // equal precedence: datacenter-scoped before unscoped, source scope before destination scope
        { Flat("default", "web", "default", "db", srcDc: "dc1"), Flat("default", "web", "default", "db") },
        { Flat("default", "web", "default", "db", dstDc: "dc2"), Flat("default", "web", "default", "db") },
        { Flat("default", "web", "default", "db", srcDc: "dc1", dstDc: "dc2"), Flat("default", "web", "default", "db", srcDc: "dc1") },
        { Flat("default", "web", "default", "db", srcDc: "dc1"), Flat("default", "web", "default", "db", dstDc: "dc1") },
        { Flat("default", "web", "default", "db", srcDc: "dc1"), Flat("default", "web", "default", "db", srcDc: "dc2") },
        // scope never beats precedence
        { Flat("default", "web", "default", "db"), Flat("default", "*", "default", "db", srcDc: "dc1", dstDc: "dc1") },
    };

    [Theory]
    [MemberData(nameof(OrderedPairs))]
    public void Compare_OrderedPair_FirstSortsBeforeSecond(Intention first, Intention second)
    {
        Assert.True(IntentionPrecedenceComparer.Instance.Compare(first, second) < 0);
        Assert.True(IntentionPrecedenceComparer.Instance.Compare(second, first) > 0);
    }

    [Fact]
    public void Compare_EmptyAndDefaultPartition_AreEqual()
    {
        var a = Flat("default", "web", "default", "db") with { SourcePartition = "" };
        var b = Flat("default", "web", "default", "db") with { SourcePartition = "default" };
        Assert.Equal(0, IntentionPrecedenceComparer.Instance.Compare(a, b));
    }

    [Fact]
    public void Sort_AllNinePatterns_DescendingPrecedence()
    {
        var all = Sorted(
            Flat("*", "*", "*", "*"), Flat("ns", "web", "ns", "*"), Flat("ns", "*", "*", "*"), Flat("ns", "web", "ns", "db"),
            Flat("*", "*", "ns", "*"), Flat("ns", "*", "ns", "db"), Flat("ns", "web", "*", "*"), Flat("*", "*", "ns", "db"),
            Flat("ns", "*", "ns", "*"));
        Assert.Equal([9, 8, 7, 6, 5, 4, 3, 2, 1], all.Select(i => i.Precedence));
    }

    [Fact]
    public void Normalize_EqualPrecedenceSources_KeepInputOrderAfterScoped()
    {
        var entry = Valid(Entry("db", Src("*"), Src("b"), Src("a"), Src("a", srcDc: "dc1"), Src("c", dstDc: "dc1")));
        Assert.Equal(["a", "c", "b", "a", "*"], entry.Sources.Select(s => s.Name));
        Assert.Equal(["dc1", "", "", "", ""], entry.Sources.Select(s => s.SourceDatacenter));
    }
}
