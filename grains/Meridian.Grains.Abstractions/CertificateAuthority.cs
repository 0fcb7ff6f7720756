using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>One CA root as Consul's roots endpoint shows it. Never carries a private key.</summary>
[GenerateSerializer, Alias("meridian.ca.Root"), Immutable]
public sealed record CaRootDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public ulong SerialNumber { get; init; }
    [Id(3)] public string SigningKeyID { get; init; } = "";
    [Id(4)] public string ExternalTrustDomain { get; init; } = "";
    [Id(5)] public DateTimeOffset NotBefore { get; init; }
    [Id(6)] public DateTimeOffset NotAfter { get; init; }
    [Id(7)] public string RootCert { get; init; } = "";
    [Id(8)] public ImmutableArray<string> IntermediateCerts { get; init; } = [];
    [Id(9)] public bool Active { get; init; }
    [Id(10)] public string PrivateKeyType { get; init; } = "";
    [Id(11)] public int PrivateKeyBits { get; init; }
    [Id(12)] public ulong CreateIndex { get; init; }
    [Id(13)] public ulong ModifyIndex { get; init; }
    /// <summary>Meridian extension: when the root stopped being active (null while active).</summary>
    [Id(14)] public DateTimeOffset? RotatedOutAt { get; init; }
}

/// <summary>Consul's <c>/v1/connect/ca/roots</c> answer.</summary>
[GenerateSerializer, Alias("meridian.ca.Roots"), Immutable]
public sealed record CaRootListDto
{
    [Id(0)] public string ActiveRootID { get; init; } = "";
    [Id(1)] public string TrustDomain { get; init; } = "";
    [Id(2)] public ImmutableArray<CaRootDto> Roots { get; init; } = [];
    /// <summary>Changes whenever the list changes; pass it to <see cref="ICertificateAuthorityGrain.WaitForRootsChangeAsync"/>.</summary>
    [Id(3)] public ulong Index { get; init; }
}

/// <summary>The CA configuration (Consul's <c>CAConfiguration</c> for the built-in provider).</summary>
[GenerateSerializer, Alias("meridian.ca.Configuration"), Immutable]
public sealed record CaConfigurationDto
{
    [Id(0)] public string Provider { get; init; } = "consul";
    [Id(1)] public TimeSpan LeafCertTTL { get; init; } = TimeSpan.FromHours(72);
    [Id(2)] public TimeSpan IntermediateCertTTL { get; init; } = TimeSpan.FromHours(8760);
    [Id(3)] public TimeSpan RootCertTTL { get; init; } = TimeSpan.FromHours(87600);
    [Id(4)] public string PrivateKeyType { get; init; } = "ec";
    [Id(5)] public int PrivateKeyBits { get; init; } = 256;
    [Id(6)] public int CSRMaxPerSecond { get; init; } = 50;
    [Id(7)] public int CSRMaxConcurrent { get; init; }
    [Id(8)] public string ClusterID { get; init; } = "";
    [Id(9)] public ulong ModifyIndex { get; init; }
}

/// <summary>
/// A service certificate (Consul's <c>IssuedCert</c>). <see cref="PrivateKeyPEM"/> is set only when the
/// key was generated for the caller (never when a CSR was signed) and is never stored.
/// </summary>
[GenerateSerializer, Alias("meridian.ca.IssuedCertificate"), Immutable]
public sealed record IssuedCertificateDto
{
    [Id(0)] public string SerialNumber { get; init; } = "";
    [Id(1)] public string CertPEM { get; init; } = "";
    [Id(2)] public string PrivateKeyPEM { get; init; } = "";
    [Id(3)] public string Service { get; init; } = "";
    [Id(4)] public string ServiceURI { get; init; } = "";
    [Id(5)] public DateTimeOffset ValidAfter { get; init; }
    [Id(6)] public DateTimeOffset ValidBefore { get; init; }
    /// <summary>The active root this certificate chains to.</summary>
    [Id(7)] public string RootID { get; init; } = "";
    /// <summary>Key id of the CA certificate that signed it (Consul's leaf AuthorityKeyId).</summary>
    [Id(8)] public string SigningKeyID { get; init; } = "";
    [Id(9)] public ulong CreateIndex { get; init; }
    [Id(10)] public ulong ModifyIndex { get; init; }
}

/// <summary>CA status for <c>meridian status</c>.</summary>
[GenerateSerializer, Alias("meridian.ca.Status"), Immutable]
public sealed record CaStatusDto
{
    [Id(0)] public string State { get; init; } = "UNINITIALIZED";
    [Id(1)] public string ActiveRootID { get; init; } = "";
    [Id(2)] public string TrustDomain { get; init; } = "";
    [Id(3)] public DateTimeOffset? ActiveRootExpiry { get; init; }
    /// <summary>Expiry of the certificate that actually signs leaves here (Consul's <c>active-signing-ca.expiry</c>).</summary>
    [Id(4)] public DateTimeOffset? SigningCaExpiry { get; init; }
    [Id(5)] public string SigningKeyID { get; init; } = "";
    /// <summary>Empty when healthy, else why the CA cannot do its job (e.g. the primary refused to sign).</summary>
    [Id(6)] public string Degraded { get; init; } = "";
}

/// <summary>
/// The datacenter's CA manager (key: datacenter name): Consul's state machine, the roots, the configuration and
/// the signing key. No method returns the key: the datacenter's silos read it from their own storage
/// (see <c>LocalSigner</c>), so no client of the cluster, a secondary's link included, can obtain it.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.ca.ICertificateAuthorityGrain")]
public interface ICertificateAuthorityGrain : IGrainWithStringKey
{
    /// <summary>Initialises the CA if it is not yet (primary: trust domain + root). Idempotent.</summary>
    [Alias("Initialize")]
    Task<CaStatusDto> InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The roots (public material only).</summary>
    [GrainSurface(Surface.Public)]
    [AclNone("public material every workload needs to verify its peers; Consul's /v1/connect/ca/roots needs no token")]
    [Alias("GetRoots")]
    Task<CaRootListDto> GetRootsAsync(CancellationToken cancellationToken = default);

    /// <summary>Long-poll on the roots index (at most 10 minutes).</summary>
    [GrainSurface(Surface.Federation)]
    [AclNone("the roots, public material as for GetRoots; a secondary's roots watch")]
    [Alias("WaitForRootsChange"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<CaRootListDto> WaitForRootsChangeAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>The current configuration.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Operator, AclLevel.Read)]
    [Alias("GetConfiguration")]
    Task<CaConfigurationDto> GetConfigurationAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes the configuration with Consul's validation. A key type or size change rotates the root (cross-signed
    /// by the old one); TTL-only changes keep it. Primary only.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("SetConfiguration")]
    Task<CaConfigurationDto> SetConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default);

    /// <summary>Rotates to a new root cross-signed by the current one. Primary only. Returns the new roots.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("Rotate")]
    Task<CaRootListDto> RotateAsync(CancellationToken cancellationToken = default);

    /// <summary>State, active root, signing CA expiry.</summary>
    [Alias("GetStatus")]
    Task<CaStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands a block of certificate serial numbers to a silo's signer (serials stay unique and increasing per
    /// datacenter without a call per certificate). Internal to the cluster.
    /// </summary>
    [Alias("ReserveSerials")]
    Task<SerialBlockDto> ReserveSerialsAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Primary only: checks a secondary's CSR (SPEC §3.4) and signs its intermediate with the active root. The
    /// secondary's key never travels: only the CSR and the certificate do. Refused with
    /// <see cref="MeridianValidationException"/>, every reason at once and nothing signed or stored, unless
    /// <paramref name="requestingDatacenter"/> is listed in the primary's <c>Meridian:Federation:Datacenters</c> (field
    /// <c>datacenter</c>: <c>not_federation_member</c>, <c>own_datacenter</c>, or a name error) and the CSR carries exactly
    /// one URI SAN, the trust domain's signing ID, no DNS/IP/email SAN and a key the CA configuration allows (field
    /// <c>csr</c>: <c>missing_uri</c>, <c>too_many</c>, <c>not_signing_id</c>, <c>san_not_allowed</c>, <c>unsupported_key</c>,
    /// <c>invalid_signature</c>, <c>invalid_format</c>).
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("SignIntermediate")]
    Task<string> SignIntermediateAsync(string csrPem, string requestingDatacenter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Primary only: a secondary reports how many of its certificates use the active root (gates root pruning). Refused
    /// (field <c>datacenter</c>) for a datacenter the primary does not list in <c>Meridian:Federation:Datacenters</c>.
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("ReportRotationProgress")]
    Task ReportRotationProgressAsync(RotationProgressDto progress, CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary only, first of the two short turns of a root-watch round (the primary is never called inside the CA's
    /// turn): checks the primary's roots against the pinned federation (trust domain and root lineage) and the current
    /// intermediate, and when a new intermediate is needed (first join, a rotation cross-signed by a trusted root, half-life
    /// renewal, an adoption) stages a new key in memory and returns its CSR. A refusal (malformed roots, another trust
    /// domain, an active root no trusted root cross-signed) changes nothing, sets <c>Degraded</c> and throws.
    /// </summary>
    [Alias("PrepareSync")]
    Task<CaSyncStepDto> PrepareSyncAsync(CaRootListDto primaryRoots, CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary only, second turn: installs the primary's answer for the key staged by <see cref="PrepareSyncAsync"/>
    /// under <paramref name="stagedKeyId"/>, after checking the certificate against that key and the same roots and that
    /// the decision still holds; records the pin. The new key signs only from here on.
    /// </summary>
    [Alias("InstallIntermediate")]
    Task<CaStatusDto> InstallIntermediateAsync(CaRootListDto primaryRoots, string stagedKeyId, string intermediatePem, CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary only: the operator accepts a primary with another trust domain (<c>meridian ca adopt-primary
    /// --trust-domain &lt;cluster-id&gt;.consul</c>). Stored durably; the next root-watch round that meets a primary of that
    /// trust domain re-pins to it and gets a new intermediate. Refused with <see cref="MeridianValidationException"/>:
    /// field <c>trust_domain</c> for a malformed name, field <c>datacenter</c> in the primary (it follows nobody). Idempotent.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("AdoptPrimary")]
    Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default);

    /// <summary>Records why this secondary's CA cannot follow the primary (shown as <c>Degraded</c>) until the next success.</summary>
    [Alias("ReportDegraded"), AlwaysInterleave]
    Task ReportDegradedAsync(string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Status, roots and configuration, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState")]
    Task<CaOverviewDto> GetState();
}

/// <summary>What <see cref="ICertificateAuthorityGrain.PrepareSyncAsync"/> decided.</summary>
[GenerateSerializer, Alias("meridian.ca.SyncStep"), Immutable]
public sealed record CaSyncStepDto
{
    /// <summary>The CA's status after the decision.</summary>
    [Id(0)] public CaStatusDto Status { get; init; } = new();
    /// <summary>The transition: <c>Keep</c>, <c>Join</c>, <c>FollowRotation</c>, <c>Renew</c>, <c>Repair</c>, <c>Adopt</c>.</summary>
    [Id(1)] public string Action { get; init; } = "";
    /// <summary>Why (empty for <c>Keep</c>).</summary>
    [Id(2)] public string Reason { get; init; } = "";
    /// <summary>Names the staged key for <see cref="ICertificateAuthorityGrain.InstallIntermediateAsync"/>; empty when none is needed.</summary>
    [Id(3)] public string StagedKeyId { get; init; } = "";
    /// <summary>The CSR of the staged key, for the primary's <c>SignIntermediate</c>; empty when none is needed.</summary>
    [Id(4)] public string Csr { get; init; } = "";
}

/// <summary>A reserved range of serial numbers, <c>[First, First + Count)</c>.</summary>
[GenerateSerializer, Alias("meridian.ca.SerialBlock"), Immutable]
public sealed record SerialBlockDto([property: Id(0)] ulong First, [property: Id(1)] int Count);

/// <summary>
/// A service's certificate in one datacenter (key: <c>dc/service</c>). Issues on first use, renews itself inside
/// 60-90% of the lifetime and after a root change, and keeps its private key only in memory.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.ca.IServiceCertificateGrain")]
public interface IServiceCertificateGrain : IGrainWithStringKey
{
    /// <summary>The current certificate and key, issuing one first when there is none or it is stale.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Service, AclLevel.Write, Name = AclAttribute.GrainKeyService)]
    [Alias("Get")]
    Task<IssuedCertificateDto> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Long-poll: answers once the certificate's serial differs from <paramref name="serial"/>, or with the
    /// current certificate after <paramref name="maxWait"/> (at most 10 minutes).
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Service, AclLevel.Write, Name = AclAttribute.GrainKeyService)]
    [Alias("WaitForNewer"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<IssuedCertificateDto> WaitForNewerAsync(string serial, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Re-issues now if the certificate is due for renewal or signed under a root that is no longer active; otherwise
    /// does nothing (idempotent). Sent by the hosting silo's renewal schedule, one-way.
    /// </summary>
    [Alias("RenewIfDue"), OneWay]
    Task RenewIfDueAsync();

    /// <summary>
    /// The current certificate without its key (null before the first issue; never issues one), for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState")]
    Task<IssuedCertificateDto?> GetState();
}

/// <summary>
/// Signs workloads' own CSRs (their keys never leave them), with Consul's CSR checks and rate limit.
/// Stateless worker keyed by datacenter: signing runs in parallel on every core.
/// </summary>
[GrainSurface(Surface.Public)]
[Alias("meridian.ca.ILeafSignerGrain")]
public interface ILeafSignerGrain : IGrainWithStringKey
{
    /// <summary>Signs <paramref name="csrPem"/> for <paramref name="service"/>; the CSR's URI must be that service in this datacenter.</summary>
    [Acl(AclTarget.Service, AclLevel.Write, Name = "service")]
    [Alias("SignCsr")]
    Task<IssuedCertificateDto> SignCsrAsync(string service, string csrPem, CancellationToken cancellationToken = default);
}
