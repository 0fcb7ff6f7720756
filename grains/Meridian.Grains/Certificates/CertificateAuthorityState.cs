namespace Meridian.Grains.Certificates;

/// <summary>
/// Persisted CA state of one datacenter. Its private keys are stored apart, sealed (<see cref="CaKeyState"/>); they
/// never leave the datacenter's own storage and silos and are never returned to users. Type and property names are
/// part of the stored format: never rename.
/// </summary>
[GenerateSerializer, Alias("meridian.ca.CertificateAuthorityState")]
public sealed class CertificateAuthorityState
{
    [Id(0)] public string ClusterId { get; set; } = "";
    [Id(1)] public string State { get; set; } = "UNINITIALIZED";
    [Id(2)] public CaConfigState Config { get; set; } = new();
    [Id(3)] public List<CaRootState> Roots { get; set; } = [];
    /// <summary>Index of the roots list: bumped on every change of roots or configuration.</summary>
    [Id(4)] public ulong Index { get; set; }
    /// <summary>Highest serial number handed out (roots, cross-signs, and blocks reserved by silos for leaves).</summary>
    [Id(5)] public ulong SerialHighWater { get; set; }
    /// <summary>Primary only: the secondaries that obtained an intermediate, and their last rotation report.</summary>
    [Id(6)] public Dictionary<string, SecondaryProgressState> Secondaries { get; set; } = [];
    /// <summary>
    /// Secondary only: the federation pinned at the first successful join (issue 12 §3); null before it, and in state
    /// written before pins existed (then the datacenter's own trust domain and roots count as pinned).
    /// </summary>
    [Id(7)] public FederationPinState? Pin { get; set; }
    /// <summary>Secondary only: a trust domain the operator accepted with <c>meridian ca adopt-primary</c>; empty when none.</summary>
    [Id(8)] public string AdoptTrustDomain { get; set; } = "";
}

/// <summary>A secondary's pinned federation: the primary's trust domain and the roots trusted since, oldest first.</summary>
[GenerateSerializer, Alias("meridian.ca.FederationPinState")]
public sealed class FederationPinState
{
    [Id(0)] public string TrustDomain { get; set; } = "";
    [Id(1)] public List<string> RootLineage { get; set; } = [];
    [Id(2)] public DateTimeOffset PinnedAt { get; set; }
}

/// <summary>A secondary's last rotation report, as the primary keeps it.</summary>
[GenerateSerializer, Alias("meridian.ca.SecondaryProgressState")]
public sealed class SecondaryProgressState
{
    [Id(0)] public string ActiveRootId { get; set; } = "";
    [Id(1)] public int OnActiveRoot { get; set; }
    [Id(2)] public int Total { get; set; }
    [Id(3)] public DateTimeOffset ReportedAt { get; set; }
}

/// <summary>Persisted CA configuration.</summary>
[GenerateSerializer, Alias("meridian.ca.CaConfigState")]
public sealed class CaConfigState
{
    [Id(0)] public TimeSpan LeafCertTtl { get; set; } = TimeSpan.FromHours(72);
    [Id(1)] public TimeSpan IntermediateCertTtl { get; set; } = TimeSpan.FromHours(8760);
    [Id(2)] public TimeSpan RootCertTtl { get; set; } = TimeSpan.FromHours(87600);
    [Id(3)] public string PrivateKeyType { get; set; } = "ec";
    [Id(4)] public int PrivateKeyBits { get; set; } = 256;
    [Id(5)] public double CsrMaxPerSecond { get; set; } = 50;
    [Id(6)] public int CsrMaxConcurrent { get; set; }
}

/// <summary>One persisted root with its chain and, while it can still sign, its key.</summary>
[GenerateSerializer, Alias("meridian.ca.CaRootState")]
public sealed class CaRootState
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string Name { get; set; } = "";
    [Id(2)] public ulong SerialNumber { get; set; }
    [Id(3)] public string RootCertPem { get; set; } = "";
    [Id(4)] public List<string> IntermediateCertPems { get; set; } = [];
    /// <summary>The certificate that signs leaves here: the root in the primary, the local intermediate in a secondary.</summary>
    [Id(5)] public string SigningCertPem { get; set; } = "";
    /// <summary>
    /// PEM of the signing key, in memory only; cleared once the root is rotated out and no longer needed. Stored sealed
    /// in <see cref="CaKeyState"/>: <see cref="CaStateStore"/> never writes it here (state written before that split
    /// still has it, and is moved on activation).
    /// </summary>
    [Id(6)] public string? SigningKeyPem { get; set; }
    [Id(7)] public string SigningKeyId { get; set; } = "";
    [Id(8)] public bool Active { get; set; }
    [Id(9)] public DateTimeOffset NotBefore { get; set; }
    [Id(10)] public DateTimeOffset NotAfter { get; set; }
    [Id(11)] public DateTimeOffset? RotatedOutAt { get; set; }
    [Id(12)] public string ExternalTrustDomain { get; set; } = "";
    [Id(13)] public string PrivateKeyType { get; set; } = "";
    [Id(14)] public int PrivateKeyBits { get; set; }
    [Id(15)] public ulong CreateIndex { get; set; }
    [Id(16)] public ulong ModifyIndex { get; set; }
}

/// <summary>
/// The CA's private keys, stored apart from <see cref="CertificateAuthorityState"/> so the frequent writes of that
/// state (serial reservations, secondaries' progress) never carry a key: a key is written once, when it is made, and
/// removed once its root stops signing. Each value is an <see cref="Meridian.Core.Certificates.IKeySealer"/> blob
/// (AES-256-GCM under <c>Meridian:Ca:KeyEncryptionKeyFile</c>, or unsealed where that is explicitly allowed), keyed
/// by <see cref="CaStateStore.KeyName"/>.
/// </summary>
[GenerateSerializer, Alias("meridian.ca.CaKeyState")]
public sealed class CaKeyState
{
    [Id(0)] public Dictionary<string, byte[]> Keys { get; set; } = [];
}
