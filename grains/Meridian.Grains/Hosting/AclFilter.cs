using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Microsoft.Extensions.Logging;
using Orleans.Serialization.Invocation;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Enforces ACLs on the public and federation surface (docs/acl.md, docs/grain-surfaces.md): for a call from a client
/// of the gateway, resolves the token it sent (<see cref="CallerToken"/>) and checks what the method declares
/// (<see cref="AclAttribute"/>) before the method runs. A refusal is Consul's
/// <c>Permission denied: token with AccessorID '…' lacks permission 'service:write' on "web"</c>
/// (<see cref="MeridianPermissionDeniedException"/>); nothing runs, so nothing is written. Methods whose answer is
/// filtered per entry get the caller through <see cref="AclCallContext"/>.
/// </summary>
/// <remarks>
/// Checked like a gateway client's: calls a silo's HTTP API makes for its callers through the hosted client
/// (<see cref="CallerToken.MarkExternal"/>). Not checked: calls from inside the datacenter (grains, the silo's hosted client), which already passed this filter
/// where they entered, or were started by the silo itself; methods declaring <see cref="AclNoneAttribute"/>; every call
/// while <see cref="IAclAuthorizerSource.Enabled"/> is false. Cost per checked call on the authorize path: one frozen
/// dictionary lookup, one RequestContext read, the source's (cached) resolution, one compiled property read, one
/// <see cref="AclAuthorizer.Check"/> (a dictionary lookup and an <see cref="AclDecision"/>), and the async-local set
/// (an execution-context copy). No reflection per call.
/// </remarks>
internal sealed partial class AclFilter(IAclAuthorizerSource source, ILogger<AclFilter> logger) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        // First, whatever follows: the HTTP API's mark is for the call that entered, never for its onward calls.
        var external = CallerToken.TakeExternal();
        if (!source.Enabled
            || context.InterfaceMethod is not { } method
            || !AclMethodTable.Methods.TryGetValue(method, out var requirement)
            || requirement.None
            || (!external && !ClusterSealFilter.IsGatewayClient(context.SourceId)))
            return context.Invoke();
        return InvokeCheckedAsync(context, requirement);
    }

    private async Task InvokeCheckedAsync(IIncomingGrainCallContext context, AclMethodRequirement requirement)
    {
        AclCaller caller;
        try
        {
            caller = await source.ResolveAsync(CallerToken.Current, context.Request.GetCancellationToken());
        }
        catch (MeridianPermissionDeniedException e)
        {
            LogNotResolved(logger, requirement.Operation, e.Message);
            throw;
        }
        if (!requirement.Filtered && Refusal(caller.Authorizer, requirement, context.Request, context.TargetId) is { } denied)
        {
            LogRefused(logger, requirement.Operation, caller.AccessorId, denied.Permission, denied.Name ?? "");
            throw new MeridianPermissionDeniedException(denied.DeniedMessage(caller.AccessorId));
        }
        // Set inside this async method: the grain method sees it, the caller of this filter does not.
        AclCallContext.Set(caller);
        await context.Invoke();
    }

    /// <summary>The first failed check of <paramref name="requirement"/> for this call, or null when it is granted.</summary>
    internal static AclDecision? Refusal(AclAuthorizer authorizer, AclMethodRequirement requirement, IInvokable request, GrainId target)
    {
        if (requirement.Name is null)
            return authorizer.Check(requirement.Resource, requirement.Access, null) is { Allowed: false } unnamed ? unnamed : null;
        var denied = FirstDenied(authorizer, requirement, requirement.Name(request, target));
        if (denied is null || requirement.OrName is null) return denied;
        // Either name suffices (Consul's intention read on the source or the destination); the refusal names the first.
        return FirstDenied(authorizer, requirement, requirement.OrName(request, target)) is null ? null : denied;
    }

    private static AclDecision? FirstDenied(AclAuthorizer authorizer, AclMethodRequirement requirement, object? value)
    {
        if (value is string one) // the hot path (authorize, a certificate): no enumerator
            return authorizer.Check(requirement.Resource, requirement.Access, AclMethodTable.NameOf(one)) is { Allowed: false } d ? d : null;
        foreach (var name in AclMethodTable.NamesOf(value))
        {
            if (authorizer.Check(requirement.Resource, requirement.Access, name) is { Allowed: false } decision) return decision;
        }
        return null;
    }

    [LoggerMessage(EventId = MeridianEventIds.AclCallRefused, Level = LogLevel.Debug,
        Message = "Refused {Operation} for token {AccessorId}: lacks permission {Permission} on {Name}")]
    private static partial void LogRefused(ILogger logger, string operation, string accessorId, string permission, string name);

    [LoggerMessage(EventId = MeridianEventIds.AclCallerNotResolved, Level = LogLevel.Debug,
        Message = "Refused {Operation}: the caller's token did not resolve ({Reason})")]
    private static partial void LogNotResolved(ILogger logger, string operation, string reason);
}
