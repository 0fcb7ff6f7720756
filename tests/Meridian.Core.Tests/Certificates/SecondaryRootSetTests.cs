using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class SecondaryRootSetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";
    private const string Rogue = "99999999-8888-7777-6666-555555555555.consul";

    // An intermediate of 100 h from T0: half-life at 50 h.
    private static SigningSlot Slot(string root, bool keyMatches = true) => new(root, T0, T0 + TimeSpan.FromHours(100), keyMatches);

    private static FederationPin Pin(params string[] lineage) => new(Td, [.. lineage]);

    private static RootOffer Offer(string td, string active, string edges = "")
        => new(td, active, [.. edges.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('>')).Select(p => new RootEndorsement(p[0], p[1]))]);

    // Columns: pinned lineage ("" = never joined), current root, adopted trust domain, offered trust domain, offered active
    // root, cross-signatures ("r1>r2": r1's key signed r2), hours after T0 → action, lineage afterwards.
    [Theory]
    [InlineData("", "", "", Td, "r1", "", 1, RootSetAction.Join, "r1")]                              // first join pins
    [InlineData("r1", "r1", "", Td, "r1", "", 1, RootSetAction.Keep, "r1")]                          // nothing new
    [InlineData("r1", "r1", "", Td, "r1", "", 51, RootSetAction.Renew, "r1")]                        // past half-life
    [InlineData("r1", "r1", "", Td, "r2", "r1>r2", 1, RootSetAction.FollowRotation, "r1,r2")]        // `ca rotate`
    [InlineData("r1", "r1", "", Td, "r3", "r2>r3,r1>r2", 1, RootSetAction.FollowRotation, "r1,r2,r3")] // two rotations missed
    [InlineData("r1", "r1", "", Td, "r2", "", 1, RootSetAction.Refuse, "r1")]                        // same trust domain, unrelated root
    [InlineData("r1", "r1", "", Td, "r2", "r2>r1", 1, RootSetAction.Refuse, "r1")]                   // signed the wrong way round
    [InlineData("r1", "r1", "", Td, "r3", "r2>r3", 1, RootSetAction.Refuse, "r1")]                   // vouched for by an untrusted root
    [InlineData("r1", "r1", "", Rogue, "x1", "", 1, RootSetAction.Refuse, "r1")]                     // another trust domain
    [InlineData("r1", "r1", "", Rogue, "x2", "r1>x2", 1, RootSetAction.Refuse, "r1")]                // never another trust domain, even cross-signed
    [InlineData("r1", "r1", Rogue, Rogue, "x1", "", 1, RootSetAction.Adopt, "x1")]                   // the operator adopted it
    [InlineData("r1", "r1", Rogue, Td, "r2", "r1>r2", 1, RootSetAction.FollowRotation, "r1,r2")]     // adoption pending, real primary rotates
    [InlineData("r1", "r1", Td, Td, "r9", "", 1, RootSetAction.Adopt, "r9")]                         // adopted: same trust domain, new CA
    [InlineData("r1,r2", "r1", "", Td, "r2", "", 1, RootSetAction.FollowRotation, "r1,r2")]          // trusted but not current yet
    public void Evaluate_Offer_GivesTransition(string lineage, string current, string adopt, string td, string active, string edges,
        double hours, RootSetAction action, string lineageAfter)
    {
        var pin = lineage.Length == 0 ? null : Pin(lineage.Split(','));
        var view = new SecondaryRootView(pin, current.Length == 0 ? null : Slot(current), adopt);
        var decision = SecondaryRootSet.Evaluate(T0 + TimeSpan.FromHours(hours), view, Offer(td, active, edges));
        Assert.Equal(action, decision.Action);
        Assert.Equal(lineageAfter, string.Join(",", decision.PinAfter!.RootLineage));
        Assert.Equal(action is not (RootSetAction.Keep or RootSetAction.Refuse), decision.NeedsIntermediate);
        var pinnedAfter = action is RootSetAction.Adopt ? adopt : Td;
        Assert.Equal(pinnedAfter, decision.PinAfter.TrustDomain);
    }

    [Fact]
    public void Evaluate_KeyDoesNotMatchCertificate_Repairs()
    {
        var decision = SecondaryRootSet.Evaluate(T0, new(Pin("r1"), Slot("r1", keyMatches: false)), Offer(Td, "r1"));
        Assert.Equal(RootSetAction.Repair, decision.Action);
    }

    [Theory]
    [InlineData(Rogue, "trust domain mismatch: this datacenter is pinned to trust domain " + Td + ", but the primary offers trust domain " + Rogue)]
    [InlineData("", "but the primary offers no trust domain")]
    public void Refusal_OtherTrustDomain_SaysWhyAndHowToAdopt(string offered, string expected)
    {
        var reason = SecondaryRootSet.CheckTrustDomain(new(Pin("r1"), Slot("r1")), offered);
        Assert.Contains(expected, reason, StringComparison.Ordinal);
        Assert.Contains("meridian ca adopt-primary --trust-domain", reason, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_RootNotCrossSigned_NamesTheRootAndTheLineage()
    {
        var decision = SecondaryRootSet.Evaluate(T0, new(Pin("r1"), Slot("r1")), Offer(Td, "r2"));
        Assert.Contains("active root r2 is not cross-signed by a root this datacenter trusts (r1)", decision.Reason, StringComparison.Ordinal);
        Assert.Contains($"meridian ca adopt-primary --trust-domain {Td}", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "", Td, true)]          // never joined: anything goes (the first join pins)
    [InlineData("r1", "", Td, true)]        // the pinned trust domain
    [InlineData("r1", "", "11111111-2222-3333-4444-555555555555.CONSUL", true)] // any case
    [InlineData("r1", "", Rogue, false)]    // another one
    [InlineData("r1", Rogue, Rogue, true)]  // adopted on purpose
    [InlineData("r1", Rogue, "", false)]    // a primary without a CA
    public void CheckTrustDomain_FollowsOnlyThePinnedOrAdopted(string lineage, string adopt, string offered, bool follows)
    {
        var view = new SecondaryRootView(lineage.Length == 0 ? null : Pin(lineage), null, adopt);
        Assert.Equal(follows, SecondaryRootSet.CheckTrustDomain(view, offered).Length == 0);
    }

    [Theory]
    [InlineData(true, true, true)]     // a secondary from before pins: its own trust domain and roots count as pinned
    [InlineData(false, true, false)]   // ran as its own primary (signs with its own root): joins afresh
    [InlineData(true, false, false)]   // never initialised
    public void PinOf_StateWithoutPin_DependsOnHowItSigns(bool joinedBefore, bool hasTrustDomain, bool pinned)
    {
        var pin = SecondaryRootSet.PinOf(null, hasTrustDomain ? Td : "", ["r1", "r0"], joinedBefore);
        Assert.Equal(pinned, pin is not null);
        if (pin is not null) Assert.Equal((Td, "r1,r0"), (pin.TrustDomain, string.Join(",", pin.RootLineage)));
        var stored = Pin("r5");
        Assert.Same(stored, SecondaryRootSet.PinOf(stored, Td, ["r1"], joinedBefore));
    }

    // Prepare then activate: columns are minutes between the two turns, the id handed back, and what the datacenter
    // looks like at install time (the same offer, an adoption in between, the primary rotated again) → refusal text.
    [Theory]
    [InlineData(1, "k1", "same", "")]
    [InlineData(11, "k1", "same", "older than 10m")]
    [InlineData(1, "k2", "same", "no key is staged under this id")]
    [InlineData(1, "k1", "rotated-again", "the primary's roots changed")]
    [InlineData(1, "k1", "installed-already", "nothing to install any more")]
    [InlineData(1, "k1", "refused-now", "trust domain mismatch")]
    public void CanActivate_OnlyTheStagedDecisionThatStillHolds(double minutes, string id, string later, string refusal)
    {
        var view = new SecondaryRootView(Pin("r1"), Slot("r1"));
        var staged = SecondaryRootSet.Prepare(T0, SecondaryRootSet.Evaluate(T0, view, Offer(Td, "r2", "r1>r2")), "k1");
        var now = T0 + TimeSpan.FromMinutes(minutes);
        var again = later switch
        {
            "same" => SecondaryRootSet.Evaluate(now, view, Offer(Td, "r2", "r1>r2")),
            "rotated-again" => SecondaryRootSet.Evaluate(now, view, Offer(Td, "r3", "r1>r2,r2>r3")),
            "installed-already" => SecondaryRootSet.Evaluate(now, new(Pin("r1", "r2"), Slot("r2")), Offer(Td, "r2", "r1>r2")),
            "refused-now" => SecondaryRootSet.Evaluate(now, view, Offer(Rogue, "x1")),
            _ => throw new ArgumentOutOfRangeException(nameof(later)),
        };
        var problem = SecondaryRootSet.CanActivate(now, staged, id, again);
        if (refusal.Length == 0) Assert.Equal("", problem);
        else Assert.Contains(refusal, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_DecisionWithoutIntermediate_Throws()
    {
        var keep = SecondaryRootSet.Evaluate(T0, new(Pin("r1"), Slot("r1")), Offer(Td, "r1"));
        Assert.Throws<InvalidOperationException>(() => SecondaryRootSet.Prepare(T0, keep, "k"));
        Assert.Equal(["r1"], keep.PinAfter!.RootLineage.ToArray());
    }
}
