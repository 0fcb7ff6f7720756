namespace Meridian.Grains;

/// <summary>
/// Central log event ids. Ranges: 1xxx CA, 2xxx leaf certificates, 3xxx intentions, 4xxx replication, 5xxx hosting, 6xxx ACLs, 7xxx datacenters.
/// Never reuse or renumber an id.
/// </summary>
public static class MeridianEventIds
{
    public const int CaInitialized = 1001;
    public const int CaRotated = 1002;
    public const int CaConfigUpdated = 1003;
    public const int CaInitializeFailed = 1004;
    public const int SignerRefreshed = 1005;
    public const int SignerRefreshFailed = 1006;
    public const int CaIntermediatesPruned = 1010;
    public const int IntermediateSigned = 1020;
    public const int IntermediateRefused = 1021;
    public const int PrimaryRootsRefused = 1030;
    public const int FederationPinned = 1031;
    public const int AdoptPrimaryRequested = 1032;

    public const int LeafIssued = 2001;
    public const int LeafRenewalScheduled = 2002;
    public const int LeafRenewalFailed = 2003;
    public const int CsrSigned = 2004;

    public const int IntentionUpserted = 3001;
    public const int IntentionDeleted = 3002;
    public const int IntentionRegistryLoaded = 3003;
    public const int IntentionCacheSyncFailed = 3004;
    public const int IntentionRegistryNewEpoch = 3005;
    public const int GrainKeyRefused = 3030;

    public const int SchemaInstalled = 5001;
    public const int SchemaMissing = 5002;
    public const int SiloLoopRoundFailed = 5003;
    public const int SiloLoopStopped = 5004;
    public const int GrainCallFailed = 5010;
    public const int StorageInMemory = 5011;
    public const int CaKeysUnsealed = 5012;
    public const int ClusterInternalCallRefused = 5013;
    public const int InsecureBindAllowed = 5020;
    public const int HealthStatusFailed = 5021;
    public const int TransportTlsReloaded = 5030;
    public const int TransportTlsReloadRefused = 5031;
    public const int TransportCertificateRefused = 5032;
    public const int EndpointsAdvertised = 5040;

    public const int ReplicationRoundFailed = 4001;
    public const int ReplicationIndexBackwards = 4002;
    public const int ReplicationApplied = 4003;
    public const int ReplicationRefused = 4004; // retired: a refused first sync logs as ReplicationHeld
    public const int RootWatchFailed = 4005; // retired: root-watch failures log as ReplicationRoundFailed
    public const int SecondaryCaRekeyed = 4006;
    public const int ReissueScheduled = 4007;
    public const int ReplicationEpochChanged = 4008;
    public const int ReplicationRoundEnded = 4009;
    public const int ReplicationHeld = 4030;
    public const int ReplicationAdopted = 4031;
    public const int ReplicationAdoptedByOperator = 4032;
    public const int ReplicationWaitingForToken = 4040;

    // ACL store and resolver (6000-6019).
    public const int AclBootstrapped = 6000;
    public const int AclInitialManagementCreated = 6001;
    public const int AclEntryWritten = 6002;
    public const int AclEntryDeleted = 6003;
    public const int AclBootstrapResetUnreadable = 6004;
    public const int AclStoreUnreachable = 6005;
    public const int AclCacheInvalidated = 6006;

    // ACL replication (6040-6059).
    public const int AclReplicated = 6040;

    // Datacenters: registry, links, RTT (7000-7019).
    public const int DatacenterRegistryLoaded = 7000;
    public const int DatacenterRegistered = 7001;
    public const int DatacenterSelfRegistered = 7002;
    public const int DatacenterLinkOpened = 7003;
    public const int DatacenterLinkClosed = 7004;
    public const int DatacenterPingFailed = 7005;
    public const int DatacenterListRefreshFailed = 7006;

    // ACL enforcement (6020-6039).
    public const int AclCallRefused = 6020;
    public const int AclCallerNotResolved = 6021;

    // Prepared queries (7040-7059).
    public const int PreparedQueryCreated = 7040;
    public const int PreparedQueryUpdated = 7041;
    public const int PreparedQueryDeleted = 7042;
    public const int PreparedQueryWriteRefused = 7043;
    /// <summary>For the execute wiring: Consul's debug line <c>Skipping unknown datacenter in prepared query</c>.</summary>
    public const int PreparedQueryUnknownDatacenterSkipped = 7044;
    /// <summary>For the execute wiring: a failover candidate failed (Consul's <c>Failed querying for service in datacenter</c>).</summary>
    public const int PreparedQueryFailoverFailed = 7045;
    // Catalog and health (7020-7039).
    public const int CatalogNodeRegistered = 7020;
    public const int CatalogDeregistered = 7021;
    public const int CatalogTtlExpired = 7022;
    public const int CatalogForwarded = 7023;

    // Connect proxy (8000-8019): client/Meridian.Proxy/ProxyEventIds.cs (the proxy uses only the SDK, so its ids live there).
}
