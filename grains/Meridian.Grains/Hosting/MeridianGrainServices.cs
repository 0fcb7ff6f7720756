using Meridian.Core.Certificates;
using Meridian.Core.Federation;
using Meridian.Grains.Certificates;
using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Meridian.Grains.Hosting;

/// <summary>Registers what Meridian grains need in a silo (caches, loops, call filters).</summary>
public static class MeridianGrainServices
{
    /// <summary>
    /// Adds Meridian's silo services, including the serializer of the <see cref="MeridianStorage.Name"/> grain storage.
    /// The host must also register a <see cref="DatacenterContext"/> and that grain storage (any provider).
    /// </summary>
    public static ISiloBuilder AddMeridianGrainServices(this ISiloBuilder silo)
    {
        var services = silo.Services;
        services.AddMeridianStorageSerializer();
        services.TryAddSingleton(TimeProvider.System);
        // The one Meter("Meridian"): instruments created once per silo, reported to by grains and services.
        services.AddMetrics();
        services.TryAddSingleton<Diagnostics.MeridianInstruments>();
        services.TryAddSingleton<SiloStopping>();
        services.AddSingleton<IntentionCache>();
        services.TryAddSingleton<RegistryScans>();
        AddLoop<IntentionCacheSync>(services);
        // ACLs off unless the host registers its Meridian:Acl settings (test clusters register their own).
        services.TryAddSingleton(Acl.AclSettings.Disabled);
        services.AddSingleton<Acl.AclAuthorizerSource>();
        services.TryAddSingleton<Acl.AclReplicationToken>();
        // A test cluster may register its own source first (over fixed Core objects).
        services.TryAddSingleton<Acl.IAclAuthorizerSource>(sp => sp.GetRequiredService<Acl.AclAuthorizerSource>());
        AddLoop<Acl.AclCacheSync>(services);
        services.TryAddSingleton(CaConfiguration.Default);
        // A primary without a configured federation signs no secondary's intermediate (issue 12).
        services.TryAddSingleton(FederationMembers.None);
        services.TryAddSingleton(CaMaintenanceSettings.Default);
        // The silo registers the AES-GCM sealer when Meridian:Ca:KeyEncryptionKeyFile is set; test clusters run unsealed.
        services.TryAddSingleton(Pki.KeySealers.Unsealed);
        services.AddSingleton<SerialAllocator>();
        services.AddSingleton<LocalSigner>();
        services.AddSingleton<CertificateActivations>();
        AddLoop<CertificateInventoryReporter>(services);
        AddLoop<CertificateRenewals>(services);
        services.TryAddSingleton(ReissueSettings.Default);
        services.TryAddSingleton(Replication.ReplicationSettings.Default);
        services.TryAddSingleton<IPrimaryDatacenterLink, NoPrimaryLink>();
        services.TryAddSingleton<IDatacenterLinks>(sp => new PrimaryOnlyLinks(sp.GetRequiredService<DatacenterContext>(),
            sp.GetRequiredService<IPrimaryDatacenterLink>(), sp.GetRequiredService<IGrainFactory>()));
        services.TryAddSingleton<IDatacenterDistances, LocalOnlyDistances>();
        services.TryAddSingleton(DatacenterAdvertisement.None);
        services.TryAddSingleton(Discovery.DiscoverySettings.Default); // the silo registers Meridian:TranslateWanAddrs first
        AddLoop<Datacenters.DatacenterRegistrar>(services);
        AddLoop<FederationStarter>(services);
        AddLoop<LocalSignerSync>(services);
        // Keys a caller chose are checked before the grain activates (before its state is read).
        services.AddSingleton<IConfigureGrainContextProvider, GrainKeyGuard>();
        silo.AddIncomingGrainCallFilter<ClusterSealFilter>(); // first: a refused call reaches nothing else
        silo.AddIncomingGrainCallFilter<DomainExceptionFilter>();
        silo.AddIncomingGrainCallFilter<AclFilter>(); // after the seal; inside DomainExceptionFilter, which maps its errors
        services.AddSingleton<LongPollLimitFilter>();
        services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<LongPollLimitFilter>());
        return silo;
    }

    private static void AddLoop<T>(IServiceCollection services) where T : SiloLoop
    {
        services.AddSingleton<T>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<T>());
    }
}
