using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Silo;

/// <summary>
/// Looks for changed transport TLS files every <see cref="TransportTlsOptions.ReloadInterval"/> (a poll on the
/// injected clock rather than a FileSystemWatcher: a Kubernetes secret or an atomic <c>mv</c> replaces a symlink or a
/// directory entry, which watchers report unreliably) and logs what happened: the certificate now served, or why the
/// new files were not taken (the previous ones stay in use).
/// </summary>
internal sealed partial class TransportTlsReloader(TransportTls tls, TimeProvider time, ILogger<TransportTlsReloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (tls.ReloadInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(tls.ReloadInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) ReloadOnce();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One look at the files (what every tick does).</summary>
    internal TlsReloadResult ReloadOnce()
    {
        var result = tls.Files.Reload();
        if (result.Outcome == TlsReloadOutcome.Reloaded && tls.Files.Current.Certificate is { } c)
            LogReloaded(logger, tls.Files.CertFile, c.Subject, c.SerialNumber, c.NotAfter.ToUniversalTime());
        else if (result.Outcome == TlsReloadOutcome.Refused)
            LogReloadRefused(logger, string.Join("; ", result.Problems));
        return result;
    }

    [LoggerMessage(EventId = MeridianEventIds.TransportTlsReloaded, Level = LogLevel.Information,
        Message = "Transport TLS files reloaded: new connections use {CertFile}, subject {Subject}, serial {Serial}, valid until {NotAfter:u}")]
    private static partial void LogReloaded(ILogger logger, string? certFile, string subject, string serial, DateTime notAfter);

    [LoggerMessage(EventId = MeridianEventIds.TransportTlsReloadRefused, Level = LogLevel.Warning,
        Message = "Transport TLS files changed but were not loaded; the previous certificate stays in use: {Problems}")]
    private static partial void LogReloadRefused(ILogger logger, string problems);
}

/// <summary>
/// Logs a certificate the gateway refused for its names (once per certificate: a refused secondary retries every
/// 200 ms). Never logs key material: the subject, serial and reason only.
/// </summary>
internal sealed partial class TransportCertificateRefusals(ILogger<TransportCertificateRefusals> logger)
{
    private const int Remembered = 256;
    private readonly ConcurrentDictionary<string, bool> _logged = new(StringComparer.Ordinal);

    public void Refused(X509Certificate2 certificate, string why)
    {
        if (_logged.Count >= Remembered) _logged.Clear();
        if (_logged.TryAdd(certificate.Thumbprint, true)) LogRefused(logger, certificate.Subject, certificate.SerialNumber, why);
    }

    [LoggerMessage(EventId = MeridianEventIds.TransportCertificateRefused, Level = LogLevel.Warning,
        Message = "Gateway refused a TLS connection with certificate {Subject} (serial {Serial}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string subject, string serial, string reason);
}
