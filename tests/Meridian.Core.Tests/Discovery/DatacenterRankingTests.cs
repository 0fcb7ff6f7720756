using Meridian.Core.Discovery;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class DatacenterRankingTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    // Each case: the measurements as "dc=ms,ms;dc=" (empty = nothing measured), the expected order, local = dc1.
    [Theory]
    [InlineData("dc2=5;dc3=20", "dc1,dc2,dc3")]                 // nearest first
    [InlineData("dc2=20;dc3=5", "dc1,dc3,dc2")]
    [InlineData("dc3=5;dc2=5", "dc1,dc2,dc3")]                  // ties alphabetical
    [InlineData("dc2=;dc3=5", "dc1,dc3,dc2")]                   // unmeasured is +inf: last
    [InlineData("dc4=;dc2=;dc3=", "dc1,dc2,dc3,dc4")]           // every +inf alphabetical
    [InlineData("dc2=1,100,2;dc3=10", "dc1,dc2,dc3")]           // median (2), not mean (34)
    [InlineData("dc2=1,30,40,2;dc3=10", "dc1,dc3,dc2")]         // even count: upper middle (30), as Consul's len/2
    [InlineData("a=50;dc2=0", "dc1,dc2,a")]                     // local (0) and a zero distance tie: alphabetical
    [InlineData("", "dc1")]                                     // only the local datacenter
    public void Rank_Measurements_ConsulOrder(string measured, string expected)
    {
        var map = new Dictionary<string, IReadOnlyList<TimeSpan>>();
        foreach (var entry in measured.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, values) = (entry.Split('=')[0], entry.Split('=')[1]);
            map[name] = [.. values.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => Ms(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))];
        }
        var ranked = DatacenterRanking.Rank("dc1", map);
        Assert.Equal(expected, string.Join(",", ranked.Select(d => d.Datacenter)));
        Assert.Equal(TimeSpan.Zero, ranked.Single(d => d.Datacenter == "dc1").Rtt);
    }

    [Fact]
    public void Rank_LocalAndZeroDistanceTie_AlphabeticalAmongZeroes()
    {
        // Local counts as 0; a remote measured at 0 ties with it and the alphabetical order decides (Consul's stable sort).
        var ranked = DatacenterRanking.Rank("dc2", new Dictionary<string, IReadOnlyList<TimeSpan>> { ["dc1"] = [TimeSpan.Zero], ["dc3"] = [Ms(1)] });
        Assert.Equal(["dc1", "dc2", "dc3"], ranked.Select(d => d.Datacenter));
    }

    [Fact]
    public void Rank_Unmeasured_HasNullRtt()
    {
        var ranked = DatacenterRanking.Rank("dc1", new Dictionary<string, IReadOnlyList<TimeSpan>> { ["dc2"] = [], ["dc3"] = [Ms(7)] });
        Assert.Equal([new("dc1", TimeSpan.Zero), new("dc3", Ms(7)), new DatacenterDistance("dc2", null)], ranked.ToArray());
        Assert.False(ranked[2].IsMeasured);
    }

    [Theory]
    [InlineData(0, "")]
    [InlineData(-1, "")]
    [InlineData(1, "dc3")]
    [InlineData(2, "dc3,dc2")]
    [InlineData(5, "dc3,dc2,dc4")]                             // fewer than N known: all of them, unmeasured last
    public void NearestN_Ranked_DropsLocalAndTakesN(int n, string expected)
    {
        var ranked = DatacenterRanking.Rank("dc1", new Dictionary<string, IReadOnlyList<TimeSpan>>
            { ["dc2"] = [Ms(20)], ["dc3"] = [Ms(5)], ["dc4"] = [] });
        Assert.Equal(expected, string.Join(",", DatacenterRanking.NearestN(ranked, "dc1", n)));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("5", 5.0)]
    [InlineData("5,100", 100.0)]                                // two samples: upper middle
    [InlineData("5,100,6", 6.0)]                                // one outlier hidden
    [InlineData("5,100,6,7", 7.0)]                              // window of 3: 100,6,7
    [InlineData("5,6,50,50", 50.0)]                             // a real change shows after two samples
    [InlineData("-3", 0.0)]                                     // a negative sample (clock step) counts as zero
    public void RttWindow_Samples_MedianOfLastThree(string samples, double? expectedMs)
    {
        var window = RttWindow.Empty;
        foreach (var s in samples.Split(',', StringSplitOptions.RemoveEmptyEntries)) window = window.Add(Ms(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(expectedMs is { } ms ? Ms(ms) : null, window.Smoothed);
        Assert.True(window.Samples.Length <= RttWindow.Size);
    }
}
