using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Client;
using Meridian.Core.Certificates;
using Meridian.Core.Replication;
using Meridian.Core.Identity;
using Meridian.Grains;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Proxy;

/// <summary>What the proxy presents and trusts at one moment. Immutable: a handshake reads one snapshot from start to end.</summary>
/// <param name="Certificate">The signed certificate (no private key in it: the proxy made the key and keeps it).</param>
/// <param name="Context">Leaf with its private key plus the chain the CA returned, sent in every handshake.</param>
/// <param name="Trust">Every root the datacenter trusts (old, new): the trust pool of each handshake.</param>
/// <param name="TrustDomain">The trust domain of the roots.</param>
/// <param name="Generation">Counts the snapshots: one more at each new certificate or bundle.</param>
public sealed record ProxyIdentitySnapshot(IssuedCertificateDto Certificate, SslStreamCertificateContext Context,
    X509Certificate2Collection Trust, string TrustDomain, long Generation)
{
    /// <summary>The chain policy of a handshake: custom roots only (no system store), no revocation (leaves are short-lived).</summary>
    public X509ChainPolicy ChainPolicy()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(Trust);
        return policy;
    }
}

/// <summary>
/// The proxy's own identity (issue 17 §1), as Consul's built-in proxy keeps it (<c>connect/tls.go dynamicTLSConfig</c>):
/// it makes a P-256 key and a CSR for its service, has the CSR signed in its datacenter (the key never leaves the
/// process: <see cref="IMeridianClient.SignCertificateAsync"/> gets only the CSR), renews at a random time in the
/// renewal window (<see cref="RenewalSchedule"/>), and follows the roots: a new active root gets a new certificate, and
/// every root the datacenter lists is trusted. Each handshake takes <see cref="Current"/> when it starts, so a rotation
/// changes new handshakes only; established TLS sessions are never renegotiated and keep running.
/// </summary>
public sealed partial class ProxyIdentity : IAsyncDisposable
{
    // A refused or failed signing retries after this, doubling up to the cap (Consul's watch: 5 s·n², at most 180 s).
    private static readonly TimeSpan RetryFirst = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(30);

    private readonly IMeridianClient _client;
    private readonly string _service;
    // The longest blocking roots read: a renewal due earlier shortens it.
    private static readonly TimeSpan RootsWatchMax = TimeSpan.FromMinutes(5);
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private volatile ProxyIdentitySnapshot? _current;
    private CaRootListDto? _roots;
    private ulong _rootsWatchIndex;
    private long _generation;

    /// <summary>Creates the identity of <paramref name="service"/>; <see cref="StartAsync"/> gets the first certificate.</summary>
    public ProxyIdentity(IMeridianClient client, string service, ILogger logger, TimeProvider? clock = null)
        => (_client, _service, _logger, _clock) = (client, service, logger, clock ?? TimeProvider.System);

    /// <summary>The latest certificate and bundle. Throws before <see cref="StartAsync"/> completed.</summary>
    public ProxyIdentitySnapshot Current => _current ?? throw new InvalidOperationException("The proxy identity has no certificate yet: call StartAsync first.");

    /// <summary>Raised after each new snapshot (new certificate or new bundle).</summary>
    public event Action<ProxyIdentitySnapshot>? Changed;

    /// <summary>How many certificates this identity has had signed.</summary>
    public int Issued { get; private set; }

    /// <summary>Reads the roots, gets the first certificate signed, then follows roots and renewal in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var first = await _client.WatchCaRootsAsync(0, TimeSpan.Zero, cancellationToken);
        (_roots, _rootsWatchIndex) = (first.Value, first.Index);
        await IssueAsync(cancellationToken);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var renewAt = PickRenewal();
        var failures = 0;
        ulong signedAtRootsIndex = _roots!.Index;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // A blocking read (Consul's roots watch): answers when the roots change, else when the renewal is due.
                var untilRenewal = renewAt - _clock.GetUtcNow();
                var wait = untilRenewal < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : untilRenewal > RootsWatchMax ? RootsWatchMax : untilRenewal;
                var answer = await _client.WatchCaRootsAsync(_rootsWatchIndex, wait, ct);
                _rootsWatchIndex = answer.Index;
                var roots = answer.Value;
                var rootsChanged = roots.Index != _roots!.Index;
                if (rootsChanged)
                {
                    LogRootsChanged(_logger, _service, roots.ActiveRootID, roots.Roots.Length);
                    _roots = roots;
                    Publish(_current!.Certificate, _current.Context);
                }
                var cert = _current!.Certificate;
                // A new active root (rotation): re-issue now, so peers that already trust only the new root keep
                // accepting us. In a secondary the datacenter may list the new root before its own intermediate is
                // re-keyed; then the CA still signs under the old root, so re-asking waits for the next roots change.
                var rootMoved = roots.ActiveRootID.Length > 0 && cert.RootID != roots.ActiveRootID && roots.Index != signedAtRootsIndex;
                var now = _clock.GetUtcNow();
                if (rootMoved || RenewalSchedule.IsDue(now, renewAt, cert.ValidAfter, cert.ValidBefore))
                {
                    signedAtRootsIndex = roots.Index;
                    await IssueAsync(ct);
                    renewAt = PickRenewal();
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var retry = Backoff.Delay(++failures, Random.Shared.NextDouble(), RetryFirst, RetryMax);
                LogRenewalFailed(_logger, _service, ex.GetType().Name, ex.Message, retry.TotalSeconds);
                try
                {
                    await Task.Delay(retry, _clock, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private DateTimeOffset PickRenewal()
    {
        var c = _current!.Certificate;
        return RenewalSchedule.PickRenewalTime(_clock.GetUtcNow(), c.ValidAfter, c.ValidBefore, Random.Shared.NextDouble());
    }

    private async Task IssueAsync(CancellationToken ct)
    {
        var roots = _roots!;
        // A fresh key for every certificate (as Consul's agent does); it exists only in this process.
        using var key = CaKeyPair.Generate(new CaKeySpec(CaKeyType.Ec, 256));
        var id = new ServiceSpiffeId(roots.TrustDomain, SpiffeId.DefaultNamespace, _client.Datacenter, _service);
        var csr = CertificateRequests.CreateLeafCsr(key, id);
        var issued = await _client.SignCertificateAsync(_service, csr, ct);
        var context = BuildContext(issued.CertPEM, key);
        Issued++;
        Publish(issued, context);
        LogIssued(_logger, _service, issued.SerialNumber, issued.RootID, issued.ValidBefore);
    }

    private static SslStreamCertificateContext BuildContext(string certPem, CaKeyPair key)
    {
        var blocks = PemChain(certPem);
        using var publicLeaf = X509Certificate2.CreateFromPem(blocks[0]);
        using var ecdsa = (ECDsa)key.ExportToDotNet();
        var leaf = publicLeaf.CopyWithPrivateKey(ecdsa);
        var intermediates = new X509Certificate2Collection(blocks.Skip(1).Select(b => X509Certificate2.CreateFromPem(b)).ToArray());
        // offline: the chain is built from what the CA returned; nothing is fetched (no AIA downloads on the data path).
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    private void Publish(IssuedCertificateDto cert, SslStreamCertificateContext context)
    {
        var roots = _roots!;
        var trust = new X509Certificate2Collection(roots.Roots.Select(r => X509Certificate2.CreateFromPem(r.RootCert)).ToArray());
        var snapshot = new ProxyIdentitySnapshot(cert, context, trust, roots.TrustDomain, Interlocked.Increment(ref _generation));
        _current = snapshot;
        Changed?.Invoke(snapshot);
    }

    internal static IReadOnlyList<string> PemChain(string pem)
    {
        const string End = "-----END CERTIFICATE-----";
        List<string> blocks = [];
        var start = 0;
        while (true)
        {
            var b = pem.IndexOf("-----BEGIN CERTIFICATE-----", start, StringComparison.Ordinal);
            if (b < 0) break;
            var e = pem.IndexOf(End, b, StringComparison.Ordinal);
            if (e < 0) break;
            blocks.Add(pem[b..(e + End.Length)]);
            start = e + End.Length;
        }
        return blocks.Count > 0 ? blocks : throw new InvalidOperationException("The CA returned no certificate in CertPEM.");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(EventId = ProxyEventIds.CertificateIssued, Level = LogLevel.Information,
        Message = "Proxy for {Service} has certificate serial {Serial} under root {RootId}, valid until {ValidBefore}")]
    private static partial void LogIssued(ILogger logger, string service, string serial, string rootId, DateTimeOffset validBefore);

    [LoggerMessage(EventId = ProxyEventIds.RootsChanged, Level = LogLevel.Information,
        Message = "Proxy for {Service} trusts a new root list: active root {RootId}, {Count} root(s)")]
    private static partial void LogRootsChanged(ILogger logger, string service, string rootId, int count);

    [LoggerMessage(EventId = ProxyEventIds.CertificateRenewalFailed, Level = LogLevel.Warning,
        Message = "Proxy for {Service} could not refresh its roots or certificate ({ErrorType}: {Error}); retrying in {RetrySeconds} s")]
    private static partial void LogRenewalFailed(ILogger logger, string service, string errorType, string error, double retrySeconds);
}
