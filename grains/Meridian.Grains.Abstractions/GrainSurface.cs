using System.Reflection;

namespace Meridian.Grains;

/// <summary>
/// Who may call a grain method (docs/grain-surfaces.md). Every method of every Meridian grain interface has one, set
/// with <see cref="GrainSurfaceAttribute"/> on the method or on its interface; a test proves none is left out. Values
/// are never renumbered.
/// </summary>
public enum Surface
{
    /// <summary>No attribute: the seal treats it as <see cref="ClusterInternal"/> (never public by accident).</summary>
    Unclassified = 0,

    /// <summary>What the SDK (<c>Meridian.Client</c>) calls for operators and workloads: any client of a gateway.</summary>
    Public = 1,

    /// <summary>
    /// What a secondary datacenter calls on the primary through its link (an Orleans client of the primary's
    /// gateways): the changes feed, the roots watch, intermediate signing, rotation progress. Reachable from clients.
    /// </summary>
    Federation = 2,

    /// <summary>
    /// Silo to silo inside one datacenter (entry writes, replication applies, serial reservation, dashboard state…):
    /// refused when the call comes from a gateway client.
    /// </summary>
    ClusterInternal = 3,
}

/// <summary>
/// Classifies the methods of a grain interface (on the interface: every method; on a method: that method, overriding
/// the interface's). Read by the silo's seal filter.
/// </summary>
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Method, Inherited = false)]
public sealed class GrainSurfaceAttribute(Surface surface) : Attribute
{
    /// <summary>Who may call.</summary>
    public Surface Surface { get; } = surface;

    /// <summary>The surface of an interface method: its own attribute, else its interface's, else <see cref="Surface.Unclassified"/>.</summary>
    public static Surface Of(MethodInfo interfaceMethod)
    {
        ArgumentNullException.ThrowIfNull(interfaceMethod);
        return interfaceMethod.GetCustomAttribute<GrainSurfaceAttribute>()?.Surface
            ?? interfaceMethod.DeclaringType?.GetCustomAttribute<GrainSurfaceAttribute>()?.Surface
            ?? Surface.Unclassified;
    }
}
