namespace Meridian.Grains;

/// <summary>Names of the Orleans storage providers Meridian grains use.</summary>
public static class MeridianStorage
{
    /// <summary>The grain storage provider for all Meridian state (memory in dev, ADO.NET/PostgreSQL in production).</summary>
    public const string Name = "meridian";
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
