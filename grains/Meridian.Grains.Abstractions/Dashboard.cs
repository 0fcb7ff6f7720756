using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>
/// Everything an operator inspects about one datacenter at a glance: what the Meridian dashboard page shows and what
/// the Orleans dashboard's Grain Details shows for <c>DatacenterGrain</c>. Built only from DTOs that never carry a
/// private key (roots carry certificates, the inventory carries root ids), so nothing here can leak one.
/// </summary>
[GenerateSerializer, Alias("meridian.dashboard.DatacenterOverview"), Immutable]
public sealed record DatacenterOverviewDto
{
    [Id(0)] public DatacenterStatusDto Status { get; init; } = new();
    [Id(1)] public CaRootListDto Roots { get; init; } = new();
    [Id(2)] public IntentionListDto Intentions { get; init; } = new(0, []);
    [Id(3)] public CertificateInventoryDto Certificates { get; init; } = new();
}

/// <summary>The CA as Grain Details shows it: status, roots and configuration, never the signing key.</summary>
[GenerateSerializer, Alias("meridian.dashboard.CaOverview"), Immutable]
public sealed record CaOverviewDto
{
    [Id(0)] public CaStatusDto Status { get; init; } = new();
    [Id(1)] public CaRootListDto Roots { get; init; } = new();
    [Id(2)] public CaConfigurationDto Configuration { get; init; } = new();
}

/// <summary>The datacenter's service certificates, each with the root its current certificate chains to.</summary>
[GenerateSerializer, Alias("meridian.ca.Inventory"), Immutable]
public sealed record CertificateInventoryDto
{
    [Id(0)] public RotationProgressDto Progress { get; init; } = new();
    /// <summary>Sorted by service.</summary>
    [Id(1)] public ImmutableArray<CertificateInventoryEntryDto> Certificates { get; init; } = [];
}

/// <summary>One service certificate of the inventory.</summary>
[GenerateSerializer, Alias("meridian.ca.InventoryEntry"), Immutable]
public sealed record CertificateInventoryEntryDto
{
    [Id(0)] public string Service { get; init; } = "";
    [Id(1)] public string RootID { get; init; } = "";
    /// <summary>True when <see cref="RootID"/> is the datacenter's active root.</summary>
    [Id(2)] public bool OnActiveRoot { get; init; }
}
