using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Meridian.Grains;

/// <summary>Names of the Orleans storage providers Meridian grains use, and how they serialize state.</summary>
public static class MeridianStorage
{
    /// <summary>The grain storage provider for all Meridian state (memory in dev, ADO.NET/PostgreSQL in production).</summary>
    public const string Name = "meridian";

    /// <summary>
    /// Makes every provider registered as <see cref="Name"/> (memory, ADO.NET, a test store) store state with the
    /// Orleans serializer. Called by <c>AddMeridianGrainServices</c>, so every host and test silo gets it.
    /// </summary>
    /// <remarks>
    /// NOTE: the providers' default is Newtonsoft JSON with reference preservation, which writes the immutable
    /// collections of our states (<c>IntentionEntryDto.Meta</c>, <c>Sources</c>) but cannot read them back ("Cannot
    /// preserve reference to readonly dictionary"). Writes succeeded, and the failure only showed when a grain
    /// activated again: in <c>meridian dev</c> 15 minutes after the last write (idle collection), after which the
    /// destination could no longer be changed. Our states are [GenerateSerializer] types with stable aliases and ids,
    /// the format the Orleans serializer is versioned for. Orleans resolves a provider's serializer as the
    /// IGrainStorageSerializer keyed by the provider's name before its global default, so one registration here
    /// covers every provider type; none of them sets its own.
    /// </remarks>
    internal static IServiceCollection AddMeridianStorageSerializer(this IServiceCollection services) =>
        services.AddKeyedSingleton<IGrainStorageSerializer>(Name, (sp, _) => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()));
}

/// <summary>
/// Facts about the datacenter this silo serves, fixed at start-up from configuration (<c>Meridian:*</c>).
/// The role is decided once here: primary iff <see cref="Datacenter"/> equals <see cref="PrimaryDatacenter"/>.
/// </summary>
public sealed record DatacenterContext(
    string Datacenter,
    string PrimaryDatacenter,
    string DefaultIntentionPolicy,
    string StorageProvider)
{
    /// <summary>True when this datacenter is the primary (the single writer of intentions and the CA root).</summary>
    public bool IsPrimary => Datacenter == PrimaryDatacenter;

    /// <summary><c>primary</c> or <c>secondary</c>.</summary>
    public string Role => IsPrimary ? "primary" : "secondary";
}
