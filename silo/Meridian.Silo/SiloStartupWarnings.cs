using Meridian.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Silo;

/// <summary>
/// Settings that are allowed but unsafe for production, logged as warnings at every start so they are never
/// forgotten: memory storage (written explicitly; everything is lost at the stop), CA keys stored unsealed and plaintext
/// allowed on a network address (<c>Meridian:Tls:AllowInsecure</c>). Also, when the silo binds one address and
/// advertises another (a container), the address it chose, so an operator sees what peers and clients are told.
/// </summary>
internal sealed partial class SiloStartupWarnings(SiloConfiguration settings, ILogger<SiloStartupWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.Storage.IsMemory) LogStorageInMemory(logger, settings.Meridian.Datacenter);
        if (settings.KeySealing.UnsealedOnDisk) LogKeysUnsealed(logger, settings.Meridian.Datacenter);
        if (settings.InsecureAllowed) LogInsecureAllowed(logger, settings.Meridian.Datacenter, settings.Endpoints.Address);
        if (!settings.Addresses.Bind.Equals(settings.Addresses.Advertise))
            LogAdvertised(logger, settings.Meridian.Datacenter, settings.Addresses.Bind.ToString(), settings.Addresses.Advertise.ToString());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = MeridianEventIds.StorageInMemory, Level = LogLevel.Warning,
        Message = "Meridian:Storage:Provider is Memory: the state of {Datacenter} (CA, roots, intentions) is lost when this silo stops; use PostgreSql in production")]
    private static partial void LogStorageInMemory(ILogger logger, string datacenter);

    [LoggerMessage(EventId = MeridianEventIds.CaKeysUnsealed, Level = LogLevel.Warning,
        Message = "Meridian:Ca:AllowUnsealedKeys is true: the CA private keys of {Datacenter} are stored unsealed in the database; set Meridian:Ca:KeyEncryptionKeyFile to seal them")]
    private static partial void LogKeysUnsealed(ILogger logger, string datacenter);

    [LoggerMessage(EventId = MeridianEventIds.InsecureBindAllowed, Level = LogLevel.Warning,
        Message = "Meridian:Tls:AllowInsecure is true: {Datacenter} serves its gateway, silo and HTTP ports on {Address} without TLS; anyone who reaches them can call the datacenter. Set Meridian:Tls:CaFile, CertFile and KeyFile")]
    private static partial void LogInsecureAllowed(ILogger logger, string datacenter, string address);

    [LoggerMessage(EventId = MeridianEventIds.EndpointsAdvertised, Level = LogLevel.Information,
        Message = "This silo of {Datacenter} listens on {Bind} and advertises {Advertised} to peers and clients (Meridian:Endpoints:AdvertiseAddress to choose another)")]
    private static partial void LogAdvertised(ILogger logger, string datacenter, string bind, string advertised);
}
