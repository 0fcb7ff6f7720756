using System.Collections.Immutable;

namespace Meridian.Core.Certificates;

/// <summary>
/// What a secondary pinned at its first successful join (issue 12 §3): the primary's trust domain (host form,
/// <c>&lt;cluster-id&gt;.consul</c>) and the lineage of roots it has trusted since, oldest first. Only a root cross-signed by
/// a root of the lineage (what <c>meridian ca rotate</c> makes) joins it; a different trust domain never does.
/// </summary>
/// <param name="TrustDomain">The pinned trust domain (lower case host form).</param>
/// <param name="RootLineage">Root ids trusted so far, oldest first.</param>
public sealed record FederationPin(string TrustDomain, ImmutableArray<string> RootLineage)
{
    /// <summary>True when <paramref name="rootId"/> is one of the trusted roots.</summary>
    public bool Trusts(string rootId) => RootLineage.Contains(rootId, StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="trustDomain"/> (any case) is the pinned one.</summary>
    public bool IsPinned(string trustDomain) => string.Equals(TrustDomain, trustDomain, StringComparison.OrdinalIgnoreCase);
}

/// <summary>A primary root <paramref name="SignerRootId"/> whose key cross-signed root <paramref name="RootId"/> (a rotation).</summary>
public sealed record RootEndorsement(string SignerRootId, string RootId);

/// <summary>What the primary offers: its trust domain, its active root and the cross-signatures between its roots.</summary>
/// <param name="TrustDomain">The primary's trust domain (host form).</param>
/// <param name="ActiveRootId">The primary's active root.</param>
/// <param name="Endorsements">Cross-signatures verified by the caller (the signature checks are PKI, not rules).</param>
public sealed record RootOffer(string TrustDomain, string ActiveRootId, IReadOnlyList<RootEndorsement> Endorsements);

/// <summary>
/// The secondary's signing slot as it is now (SPIRE's "current" slot): the root it chains to and its own intermediate.
/// </summary>
/// <param name="RootId">The active root here.</param>
/// <param name="NotBefore">Start of the signing (intermediate) certificate.</param>
/// <param name="NotAfter">End of the signing certificate.</param>
/// <param name="KeyMatches">False when the signing key does not belong to the signing certificate (a broken state to repair).</param>
public sealed record SigningSlot(string RootId, DateTimeOffset NotBefore, DateTimeOffset NotAfter, bool KeyMatches);

/// <summary>The secondary's view for <see cref="SecondaryRootSet.Evaluate"/>.</summary>
/// <param name="Pin">The federation pinned at the first join; null before it.</param>
/// <param name="Current">The current signing slot; null before the first join.</param>
/// <param name="AdoptTrustDomain">A trust domain the operator accepted (<c>meridian ca adopt-primary</c>); empty when none.</param>
public sealed record SecondaryRootView(FederationPin? Pin, SigningSlot? Current, string AdoptTrustDomain = "");

/// <summary>What a round of the root watcher does with the primary's offer.</summary>
public enum RootSetAction
{
    /// <summary>Nothing to do: the current slot signs under the primary's active root and is not due for renewal.</summary>
    Keep,
    /// <summary>First join: pin the primary's trust domain and active root, get an intermediate.</summary>
    Join,
    /// <summary>The active root is trusted but not the one this datacenter signs under (a rotation): new key and intermediate.</summary>
    FollowRotation,
    /// <summary>Same root, intermediate past half its life: new key and intermediate (Consul's half-life renewal).</summary>
    Renew,
    /// <summary>Same root, but the signing key does not match the signing certificate: new key and intermediate.</summary>
    Repair,
    /// <summary>The operator accepted this trust domain: re-pin to it and get an intermediate.</summary>
    Adopt,
    /// <summary>Refused: nothing changes (trust domain, roots, signer, certificates); the reason is shown in status.</summary>
    Refuse,
}

/// <summary>The outcome of <see cref="SecondaryRootSet.Evaluate"/>.</summary>
/// <param name="Action">The transition.</param>
/// <param name="Reason">Why (for logs and status; the refusal reason names the command that accepts it).</param>
/// <param name="PinAfter">The pin once the transition completes (unchanged on Keep and Refuse).</param>
public sealed record RootSetDecision(RootSetAction Action, string Reason, FederationPin? PinAfter)
{
    /// <summary>True when the transition needs a new key and an intermediate signed by the primary.</summary>
    public bool NeedsIntermediate => Action is not (RootSetAction.Keep or RootSetAction.Refuse);
}

/// <summary>
/// A key staged for the next signing slot (SPIRE's "next" slot, <c>pkg/server/ca/manager/slot.go</c>): made and its CSR
/// sent while the current slot keeps signing; it becomes current only once its intermediate is installed.
/// </summary>
/// <param name="Id">Names the staged key between the two short CA turns (prepare, install).</param>
/// <param name="Decision">The decision the key was staged for.</param>
/// <param name="PreparedAt">When it was staged.</param>
public sealed record PreparedSlot(string Id, RootSetDecision Decision, DateTimeOffset PreparedAt);

/// <summary>
/// The secondary's root-set rules (issue 12 §1 and §3), pure: a round of the root watcher evaluates the primary's offer
/// against the pin and the current slot, stages a key (<see cref="Prepare"/>), and installs the primary's answer only if
/// the decision still holds (<see cref="CanActivate"/>). The CA manager's busy states stay with <see cref="CaStateMachine"/>.
/// </summary>
/// <remarks>
/// <code>
///  (no pin) ──Join──▶ pinned(td, [r1]) ──FollowRotation (r2 cross-signed by r1)──▶ pinned(td, [r1, r2])
///                          │   ▲ Keep / Renew / Repair (same root)
///                          ├── Refuse: other trust domain, or a root no trusted root cross-signed (nothing changes)
///                          └── Adopt (operator named td'): pinned(td', [r'])
/// </code>
/// A staged key that is not installed within <see cref="PreparedLifetime"/> is abandoned, as SPIRE resets a slot.
/// </remarks>
public static class SecondaryRootSet
{
    /// <summary>How long a staged key waits for its intermediate before it is abandoned: 10 minutes.</summary>
    public static readonly TimeSpan PreparedLifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The pin of a secondary: the stored one, else (state written before pins existed) its own trust domain and roots
    /// when it signs with an intermediate of a primary (<paramref name="joinedBefore"/>: it trusted them), else null: a
    /// datacenter that never joined, or one that ran as its own primary and signs with its own root, joins afresh.
    /// </summary>
    public static FederationPin? PinOf(FederationPin? stored, string localTrustDomain, IEnumerable<string> localRootIds, bool joinedBefore)
        => stored ?? (joinedBefore && !string.IsNullOrEmpty(localTrustDomain)
            ? new(localTrustDomain.ToLowerInvariant(), [.. localRootIds]) : null);

    /// <summary>
    /// Whether a primary that says its trust domain is <paramref name="trustDomain"/> may be followed at all (intentions
    /// included): empty when yes, else why not.
    /// </summary>
    public static string CheckTrustDomain(SecondaryRootView local, string trustDomain)
    {
        ArgumentNullException.ThrowIfNull(local);
        if (local.Pin is not { } pin) return "";
        if (pin.IsPinned(trustDomain ?? "") || Adopting(local, trustDomain)) return "";
        var offered = string.IsNullOrEmpty(trustDomain) ? "no trust domain" : $"trust domain {trustDomain}";
        return $"trust domain mismatch: this datacenter is pinned to trust domain {pin.TrustDomain}, but the primary offers {offered}; " +
            "nothing was changed. If the primary was replaced on purpose, run `meridian ca adopt-primary --trust-domain " +
            $"{(string.IsNullOrEmpty(trustDomain) ? "<cluster-id>.consul" : trustDomain)}`";
    }

    /// <summary>The transition for the primary's <paramref name="offer"/> at <paramref name="now"/>.</summary>
    public static RootSetDecision Evaluate(DateTimeOffset now, SecondaryRootView local, RootOffer offer)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(offer);
        var trustDomain = offer.TrustDomain.ToLowerInvariant();
        if (local.Pin is not { } pin)
            return new(RootSetAction.Join, $"first join: pinning trust domain {trustDomain} and root {offer.ActiveRootId}",
                new(trustDomain, [offer.ActiveRootId]));
        if (!pin.IsPinned(trustDomain))
        {
            return Adopting(local, trustDomain)
                ? new(RootSetAction.Adopt, $"the operator adopted trust domain {trustDomain}: pinning it and root {offer.ActiveRootId}",
                    new(trustDomain, [offer.ActiveRootId]))
                : new(RootSetAction.Refuse, CheckTrustDomain(local, trustDomain), pin);
        }
        var trusted = Trusted(pin, offer.Endorsements);
        if (!trusted.Contains(offer.ActiveRootId))
        {
            if (Adopting(local, trustDomain))
                return new(RootSetAction.Adopt, $"the operator adopted trust domain {trustDomain}: pinning root {offer.ActiveRootId}",
                    new(trustDomain, [offer.ActiveRootId]));
            return new(RootSetAction.Refuse,
                $"the primary's active root {offer.ActiveRootId} is not cross-signed by a root this datacenter trusts " +
                $"({string.Join(", ", pin.RootLineage)}); nothing was changed. If the primary's CA was replaced on purpose, run " +
                $"`meridian ca adopt-primary --trust-domain {trustDomain}`", pin);
        }
        // The active root joins the lineage with every root that vouches for it on the way (several rotations missed).
        var lineage = pin.RootLineage.AddRange(trusted.Where(r => !pin.Trusts(r)).OrderBy(r => r == offer.ActiveRootId));
        var after = pin with { RootLineage = lineage };
        if (local.Current is not { } current || !string.Equals(current.RootId, offer.ActiveRootId, StringComparison.OrdinalIgnoreCase))
            return new(RootSetAction.FollowRotation, $"the primary's active root is now {offer.ActiveRootId}", after);
        if (!current.KeyMatches)
            return new(RootSetAction.Repair, "the signing key does not match the signing certificate", after);
        if (IntermediateRenewal.NeedsRenewal(now, current.NotBefore, current.NotAfter))
            return new(RootSetAction.Renew, "the intermediate is past half its life", after);
        return new(RootSetAction.Keep, "", after);
    }

    /// <summary>Stages the next slot for a decision that needs an intermediate.</summary>
    /// <exception cref="InvalidOperationException">The decision needs no intermediate.</exception>
    public static PreparedSlot Prepare(DateTimeOffset now, RootSetDecision decision, string id)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (!decision.NeedsIntermediate) throw new InvalidOperationException($"{decision.Action} needs no new intermediate.");
        return new(id, decision, now);
    }

    /// <summary>
    /// Whether the primary's answer for <paramref name="prepared"/> may be installed at <paramref name="now"/>: the staged
    /// key is not stale and the offer, evaluated again against the datacenter as it is now (an adoption or another install
    /// may have come in between), still leads to the same pin. Empty when yes, else why not.
    /// </summary>
    public static string CanActivate(DateTimeOffset now, PreparedSlot? prepared, string id, RootSetDecision current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (prepared is null || prepared.Id != id) return "no key is staged under this id (the CA was restarted or staged another key)";
        if (now - prepared.PreparedAt > PreparedLifetime) return $"the staged key is older than {GoDuration.Format(PreparedLifetime)}";
        if (!current.NeedsIntermediate) return current.Action == RootSetAction.Refuse ? current.Reason : "nothing to install any more";
        var (a, b) = (prepared.Decision.PinAfter!, current.PinAfter!);
        return a.IsPinned(b.TrustDomain) && a.RootLineage[^1] == b.RootLineage[^1] ? "" : "the primary's roots changed since the key was staged";
    }

    private static bool Adopting(SecondaryRootView local, string? trustDomain)
        => local.AdoptTrustDomain.Length > 0 && string.Equals(local.AdoptTrustDomain, trustDomain, StringComparison.OrdinalIgnoreCase);

    // The lineage closed under the offer's cross-signatures: r is trusted when a trusted root signed it.
    private static HashSet<string> Trusted(FederationPin pin, IReadOnlyList<RootEndorsement> endorsements)
    {
        var trusted = new HashSet<string>(pin.RootLineage, StringComparer.OrdinalIgnoreCase);
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var e in endorsements)
                if (trusted.Contains(e.SignerRootId) && trusted.Add(e.RootId)) grew = true;
        }
        return trusted;
    }
}
