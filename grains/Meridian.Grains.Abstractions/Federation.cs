using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>How far a datacenter's certificates have moved to its active root.</summary>
[GenerateSerializer, Alias("meridian.ca.RotationProgress"), Immutable]
public sealed record RotationProgressDto
{
    [Id(0)] public string Datacenter { get; init; } = "";
    [Id(1)] public string ActiveRootID { get; init; } = "";
    [Id(2)] public int OnActiveRoot { get; init; }
    [Id(3)] public int Total { get; init; }
}

/// <summary>Which root each service certificate of a datacenter uses (key: datacenter).</summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.ca.ICertificateInventoryGrain")]
public interface ICertificateInventoryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records, for each service, the root its current certificate chains to. Each silo sends its certificates'
    /// changes in batches (one call per ~100 ms, not one per certificate).
    /// </summary>
    [Alias("RecordMany")]
    Task RecordAsync(IReadOnlyDictionary<string, string> rootByService);

    /// <summary>Certificates on the active root / all known certificates.</summary>
    [Alias("GetProgress")]
    Task<RotationProgressDto> GetProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Rotation progress and each service's root, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState")]
    Task<CertificateInventoryDto> GetState();
}
