using Meridian.Core.Acl;
using Meridian.Core.Intentions;
using Meridian.Grains.Acl;
using Orleans.Concurrency;
using Meridian.Grains.Diagnostics;
using Orleans.Dashboard;

namespace Meridian.Grains.Intentions;

/// <summary>
/// Authorize and check from the silo's <see cref="IntentionCache"/>: no storage read, no call to another grain on
/// the hot path. A stateless worker, so every silo answers locally and in parallel. Left out of the dashboard's
/// per-call profiler (a stopwatch and a shared dictionary update on every call of the hottest path); the dashboard
/// still lists its activations.
/// </summary>
[StatelessWorker]
[NoProfiling]
public sealed class AuthorizerGrain(IntentionCache cache, DatacenterContext datacenter, IAclAuthorizerSource acls, MeridianInstruments instruments)
    : Grain, IAuthorizerGrain
{
    // The three defaults a call can need, computed once: ACLs off (or a caller inside the datacenter), and a checked
    // caller whose authorizer's default policy is allow or deny (IntentionDefault.Resolve has the rule).
    private IntentionDefault _defaults, _aclAllow, _aclDeny;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _aclAllow = IntentionDefault.Resolve(datacenter.DefaultIntentionPolicy, AclDefaultPolicy.Allow);
        _aclDeny = IntentionDefault.Resolve(datacenter.DefaultIntentionPolicy, AclDefaultPolicy.Deny);
        // A caller inside the datacenter is not checked, so it has no authorizer: with ACLs on it gets the datacenter's
        // ACL default, which the anonymous token's authorizer carries (deny when even that cannot be resolved).
        _defaults = acls.Enabled
            ? await AnonymousDefaultAsync(cancellationToken) == AclDefaultPolicy.Allow ? _aclAllow : _aclDeny
            : IntentionDefault.Resolve(datacenter.DefaultIntentionPolicy, null);
        // Never decide from an empty cache that has simply not loaded yet: that would allow by default.
        if (!cache.IsLoaded)
        {
            var registry = GrainFactory.GetGrain<IIntentionRegistryGrain>(datacenter.Datacenter);
            cache.Apply(await registry.WaitForChangesAsync(0, TimeSpan.Zero, cancellationToken));
        }
    }

    /// <inheritdoc />
    public Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var matches = string.IsNullOrEmpty(request.Target)
            ? default
            : cache.Current.ForDestination(request.Namespace, request.Target, request.Partition);
        var decision = IntentionEvaluator.Authorize(
            new AuthorizeRequest(request.Target ?? "", request.ClientCertURI ?? "", request.Namespace, request.Partition),
            matches.IsDefault ? [] : matches.AsSpan(), datacenter.Datacenter, Defaults());
        instruments.OnAuthorized(datacenter.Datacenter, decision.Allowed, System.Diagnostics.Stopwatch.GetTimestamp() - started);
        return Task.FromResult(new AuthorizeResultDto(decision.Allowed, decision.Reason));
    }

    /// <inheritdoc />
    public Task<bool> CheckAsync(string source, string destination, string sourceType = "consul")
    {
        var (src, dst) = IntentionRefs.Parse(source, destination);
        var request = new IntentionCheckRequest(src.Namespace, src.Name, dst.Namespace, dst.Name, sourceType,
            src.Partition, dst.Partition);
        var matches = cache.Current.ForDestination(dst.Namespace, dst.Name, dst.Partition);
        return Task.FromResult(IntentionEvaluator.Check(matches.AsSpan(), request, datacenter.Datacenter, Defaults()));
    }

    private IntentionDefault Defaults() => AclCallContext.Current is { } caller
        ? caller.Authorizer.DefaultPolicy == AclDefaultPolicy.Allow ? _aclAllow : _aclDeny
        : _defaults;

    private async Task<AclDefaultPolicy> AnonymousDefaultAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await acls.ResolveAsync(null, cancellationToken)).Authorizer.DefaultPolicy;
        }
        catch (MeridianPermissionDeniedException)
        {
            return AclDefaultPolicy.Deny;
        }
    }
}
