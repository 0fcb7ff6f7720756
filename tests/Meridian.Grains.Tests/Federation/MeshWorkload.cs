using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meridian.Grains.Tests.Federation;

/// <summary>What a workload presents and trusts at one moment: its certificate (with key and chain) and its datacenter's bundle.</summary>
public sealed record MeshIdentity(IssuedCertificateDto Certificate, SslStreamCertificateContext Context, string Uri);

/// <summary>
/// A service as a real workload runs it: it long-polls its certificate (<see cref="IServiceCertificateGrain.WaitForNewerAsync"/>)
/// and its datacenter's trust bundle (<see cref="ICertificateAuthorityGrain.WaitForRootsChangeAsync"/>) and swaps each in
/// as soon as it changes; handshakes always use the latest of both.
/// </summary>
public sealed class MeshWorkload : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private volatile MeshIdentity _identity;
    private volatile X509Certificate2Collection _trust;

    private MeshWorkload(DatacenterCluster dc, IssuedCertificateDto cert, CaRootListDto roots)
        => (Datacenter, _identity, _trust, RootsIndex) = (dc, Identity(cert), Bundle(roots), roots.Index);

    public DatacenterCluster Datacenter { get; }
    public MeshIdentity Current => _identity;
    public X509Certificate2Collection Trust => _trust;
    public ulong RootsIndex { get; private set; }

    public static async Task<MeshWorkload> StartAsync(DatacenterCluster dc, string service)
    {
        var grain = dc.Certificate(service);
        var w = new MeshWorkload(dc, await grain.GetAsync(), await dc.Ca.GetRootsAsync());
        w._loops.Add(Task.Run(() => w.FollowCertificateAsync(grain)));
        w._loops.Add(Task.Run(w.FollowBundleAsync));
        return w;
    }

    private async Task FollowCertificateAsync(IServiceCertificateGrain grain)
    {
        while (!_stop.IsCancellationRequested)
        {
            var next = await grain.WaitForNewerAsync(_identity.Certificate.SerialNumber, TimeSpan.FromSeconds(2), _stop.Token);
            if (next.SerialNumber != _identity.Certificate.SerialNumber) _identity = Identity(next);
        }
    }

    private async Task FollowBundleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var roots = await Datacenter.Ca.WaitForRootsChangeAsync(RootsIndex, TimeSpan.FromSeconds(2), _stop.Token);
            _trust = Bundle(roots);
            RootsIndex = roots.Index;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var loop in _loops)
        {
            try { await loop; }
            catch (OperationCanceledException) { }
        }
        _stop.Dispose();
    }

    private static MeshIdentity Identity(IssuedCertificateDto cert)
    {
        var chain = CertAssert.Parse(cert.CertPEM);
        var leaf = X509Certificate2.CreateFromPem(cert.CertPEM, cert.PrivateKeyPEM);
        var context = SslStreamCertificateContext.Create(leaf, new X509Certificate2Collection(chain.Skip(1).ToArray()), offline: true);
        return new MeshIdentity(cert, context, cert.ServiceURI);
    }

    private static X509Certificate2Collection Bundle(CaRootListDto roots)
        => new(roots.Roots.Select(r => X509Certificate2.CreateFromPem(r.RootCert)).ToArray());
}

/// <summary>One mutual-TLS handshake on loopback, both sides validating the peer against their own bundle only.</summary>
public static class MutualTls
{
    public static async Task<string?> HandshakeAsync(
        MeshIdentity server, X509Certificate2Collection serverTrust, MeshIdentity client, X509Certificate2Collection clientTrust)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var tcpClient = new TcpClient();
        var connecting = tcpClient.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, timeout.Token).AsTask();
        using var accepted = await listener.AcceptTcpClientAsync(timeout.Token);
        await connecting;
        await using var serverStream = new SslStream(accepted.GetStream());
        await using var clientStream = new SslStream(tcpClient.GetStream());
        string? serverError = null, clientError = null;
        var serverSide = serverStream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = server.Context,
            ClientCertificateRequired = true,
            AllowTlsResume = false, // every handshake validates a chain, none resumes an earlier session
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = Policy(serverTrust),
            RemoteCertificateValidationCallback = (_, cert, _, errors) => Accept(cert, errors, client.Uri, out serverError),
        }, timeout.Token);
        var clientSide = clientStream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "meridian.test",
            ClientCertificateContext = client.Context,
            AllowTlsResume = false,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = Policy(clientTrust),
            RemoteCertificateValidationCallback = (_, cert, _, errors) => Accept(cert, errors, server.Uri, out clientError),
        }, timeout.Token);
        try
        {
            await Task.WhenAll(serverSide, clientSide);
            // One byte each way so the client's certificate really was checked before we call it a success.
            await clientStream.WriteAsync(new byte[] { 1 }, timeout.Token);
            var buffer = new byte[1];
            await serverStream.ReadExactlyAsync(buffer, timeout.Token);
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}; server saw '{serverError}', client saw '{clientError}'";
        }
    }

    private static X509ChainPolicy Policy(X509Certificate2Collection trust)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trust);
        return policy;
    }

    // Mesh identity is the SPIFFE URI, not a DNS name: the chain must be valid, the host name is not checked.
    private static bool Accept(X509Certificate? cert, SslPolicyErrors errors, string expectedUri, out string? error)
    {
        error = null;
        if ((errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) != SslPolicyErrors.None) error = errors.ToString();
        else if (cert is null || !CertAssert.HasUriSan(new X509Certificate2(cert), expectedUri)) error = $"peer is not {expectedUri}";
        return error is null;
    }

    /// <summary>A self-signed CA unrelated to Meridian: trusting only it must fail every handshake.</summary>
    public static X509Certificate2Collection UnrelatedTrust()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=unrelated", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return [request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1))];
    }
}
