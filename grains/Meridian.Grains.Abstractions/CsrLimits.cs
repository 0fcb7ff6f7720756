namespace Meridian.Grains;

/// <summary>
/// The datacenter's CSR limits (Consul's <c>csr_max_per_second</c> and <c>csr_max_concurrent</c>), one activation per
/// datacenter (key: datacenter name), so the limits hold for the datacenter, not per silo. Each silo's signer takes
/// rate tokens in batches and signs from them locally; only a silo that has run out calls here.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.ca.ICsrLimiterGrain")]
public interface ICsrLimiterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Reserves up to <paramref name="count"/> consecutive tokens of the datacenter's bucket at
    /// <paramref name="ratePerSecond"/> (burst 1), none later than <paramref name="maxWait"/> from now. A lease with
    /// <see cref="CsrLeaseDto.Count"/> 0 is a refusal; its <see cref="CsrLeaseDto.First"/> is when a token frees up.
    /// </summary>
    [Alias("Lease")]
    Task<CsrLeaseDto> LeaseAsync(double ratePerSecond, int count, TimeSpan maxWait);

    /// <summary>
    /// Takes one of <paramref name="maxConcurrent"/> datacenter-wide signing permits, waiting at most
    /// <paramref name="maxWait"/>; null when none freed up in time. Release it with <see cref="ReleaseAsync"/>; a
    /// permit not released within a minute (its silo died mid-sign) is reclaimed.
    /// </summary>
    [Alias("Acquire")]
    Task<Guid?> AcquireAsync(int maxConcurrent, TimeSpan maxWait);

    /// <summary>Returns a permit from <see cref="AcquireAsync"/>. Idempotent.</summary>
    [Alias("Release")]
    Task ReleaseAsync(Guid permit);
}

/// <summary>A run of rate tokens: the i-th (from 0) may be used from <c>First + i × Interval</c>.</summary>
[GenerateSerializer, Immutable, Alias("meridian.ca.CsrLease")]
public sealed record CsrLeaseDto(
    [property: Id(0)] DateTimeOffset First,
    [property: Id(1)] TimeSpan Interval,
    [property: Id(2)] int Count);
