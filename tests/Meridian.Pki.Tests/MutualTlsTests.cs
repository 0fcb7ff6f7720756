using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

/// <summary>Real TLS 1.2/1.3 handshakes on loopback with .NET SslStream, each side trusting only its own bundle.</summary>
[Trait("Category", "Unit")]
public sealed class MutualTlsTests
{
    private sealed record Party(X509Certificate2 Cert, X509Certificate2Collection Chain, X509Certificate2Collection Trust, string Uri) : IDisposable
    {
        public static Party Create(SignedLeaf leaf, ECDsa key, params string[] trustedRootPems)
        {
            var certs = CertificateInfo.ParseAll(leaf.CertPem);
            using var pub = X509CertificateLoader.LoadCertificate(certs[0].Der);
            var chain = new X509Certificate2Collection();
            foreach (var c in certs.Skip(1)) chain.Add(X509CertificateLoader.LoadCertificate(c.Der));
            var trust = new X509Certificate2Collection();
            foreach (var r in trustedRootPems.SelectMany(CertificateInfo.ParseAll)) trust.Add(X509CertificateLoader.LoadCertificate(r.Der));
            return new Party(pub.CopyWithPrivateKey(key), chain, trust, leaf.Id.Uri);
        }

        public X509ChainPolicy Policy()
        {
            var p = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            };
            p.CustomTrustStore.AddRange(Trust);
            return p;
        }

        public void Dispose()
        {
            Cert.Dispose();
            foreach (var c in Chain) c.Dispose();
            foreach (var c in Trust) c.Dispose();
        }
    }

    private sealed record Seen(SslPolicyErrors Errors, string? PeerUri);

    /// <summary>Runs one handshake and one byte each way; returns what each side's validator saw.</summary>
    private static async Task<(Seen Server, Seen Client)> HandshakeAsync(Party server, Party client, Seen?[]? serverSawOut = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Seen? serverSaw = null, clientSaw = null;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        // Host names are not checked (SPIFFE identities are URIs); chain errors are.
        static bool Accept(SslPolicyErrors e) => (e & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        static string? UriOf(X509Certificate? c) => c is null ? null : CertificateInfo.FromDer(c.GetRawCertData()).Uris.Single();

        var serverTask = Task.Run(async () =>
        {
            using var tcp = await listener.AcceptTcpClientAsync(cts.Token);
            await using var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(server.Cert, server.Chain, offline: true),
                ClientCertificateRequired = true,
                CertificateChainPolicy = server.Policy(),
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    serverSaw = new Seen(errors, UriOf(cert));
                    if (serverSawOut is not null) serverSawOut[0] = serverSaw;
                    return Accept(errors);
                },
            }, cts.Token);
            var b = new byte[1];
            await ssl.ReadExactlyAsync(b, cts.Token);
            await ssl.WriteAsync(new[] { (byte)(b[0] + 1) }, cts.Token);
        }, cts.Token);

        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            await using var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificateContext = SslStreamCertificateContext.Create(client.Cert, client.Chain, offline: true),
                CertificateChainPolicy = client.Policy(),
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    clientSaw = new Seen(errors, UriOf(cert));
                    return Accept(errors);
                },
            }, cts.Token);
            await ssl.WriteAsync(new byte[] { 41 }, cts.Token);
            var b = new byte[1];
            await ssl.ReadExactlyAsync(b, cts.Token);
            Assert.Equal(42, b[0]);
        }
        finally
        {
            try { await serverTask; }
            catch (Exception e) when (e is AuthenticationException or IOException) { /* surfaced through the client or the Seen records */ }
        }
        return (serverSaw ?? throw new InvalidOperationException("server never validated the client"),
                clientSaw ?? throw new InvalidOperationException("client never validated the server"));
    }

    [Fact]
    public async Task Handshake_SecondaryIntermediateLeaf_WithRootSignedLeaf_BothTrustingTheRoot()
    {
        var now = TestPki.RealNow;
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, now);
        var secKey = TestPki.Key("ec-384", slot: 30);
        var interPem = CaCertificates.SignIntermediate(rootKey, rootPem, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2, now, TestPki.IntermediateTtl);
        CaCertificates.ValidateIntermediate(interPem, secKey, TestPki.Td.SigningId, [rootPem], now);
        using var dc1Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var dc2Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var dc1Leaf = TestPki.PrimarySigner(rootKey, rootPem).Sign(new LeafRequest(TestPki.Web("dc1"), dc1Key.ExportSubjectPublicKeyInfo()), now);
        var dc2Leaf = new LeafSigner(secKey, interPem, rootPem, [interPem], TestPki.Dc2, TestPki.LeafTtl, new SerialCounter(50).Next)
            .Sign(new LeafRequest(new Meridian.Core.Identity.ServiceSpiffeId(TestPki.Td.Host, "default", "dc2", "api"), dc2Key.ExportSubjectPublicKeyInfo()), now);
        using var server = Party.Create(dc2Leaf, dc2Key, rootPem);
        using var client = Party.Create(dc1Leaf, dc1Key, rootPem);

        var (serverSaw, clientSaw) = await HandshakeAsync(server, client);

        Assert.Equal(SslPolicyErrors.None, serverSaw.Errors);
        Assert.Equal(dc1Leaf.Id.Uri, serverSaw.PeerUri);
        Assert.Equal(SslPolicyErrors.None, clientSaw.Errors & ~SslPolicyErrors.RemoteCertificateNameMismatch);
        Assert.Equal(dc2Leaf.Id.Uri, clientSaw.PeerUri);
    }

    /// <summary>
    /// Root rotation. Consul's cross-sign goes one way: the OLD key signs the NEW root. So a peer that still trusts only
    /// the old root accepts a new-root leaf presented with the cross-signed cert. The reverse (a peer trusting only the
    /// new root accepting an old-root leaf) has no path, since nobody cross-signs the old root with the new key; Consul's
    /// design covers it by making every proxy trust all non-pruned roots (SPEC §3.9). We test exactly that guarantee:
    /// the old-leaf side trusts only the old root; the new-leaf side trusts the bundle of both roots.
    /// </summary>
    [Fact]
    public async Task Handshake_AcrossRootRotation_OldLeafTrustsOldRootOnly_NewLeafPresentsCrossSign()
    {
        var now = TestPki.RealNow;
        var oldKey = TestPki.Key("ec-256", slot: 31);
        var newKey = TestPki.Key("rsa-2048", slot: 32);
        var oldRootPem = TestPki.Root(oldKey, now.AddDays(-30), serial: 1);
        var newRootPem = TestPki.Root(newKey, now, serial: 40);
        var crossPem = CaCertificates.CrossSign(oldKey, oldRootPem, newRootPem, 41, now, TestPki.LeafTtl);
        using var oldLeafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var newLeafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var oldLeaf = TestPki.PrimarySigner(oldKey, oldRootPem).Sign(new LeafRequest(TestPki.Web(), oldLeafKey.ExportSubjectPublicKeyInfo()), now.AddHours(-2));
        var newLeaf = TestPki.PrimarySigner(newKey, newRootPem, intermediates: [crossPem])
            .Sign(new LeafRequest(new Meridian.Core.Identity.ServiceSpiffeId(TestPki.Td.Host, "default", "dc1", "db"), newLeafKey.ExportSubjectPublicKeyInfo()), now);
        Assert.Equal(newLeaf.LeafPem + crossPem, newLeaf.CertPem);
        var bundle = TrustBundle.Build([newRootPem, oldRootPem]);

        using var oldSide = Party.Create(oldLeaf, oldLeafKey, oldRootPem);
        using var newSide = Party.Create(newLeaf, newLeafKey, bundle);
        var (serverSaw, clientSaw) = await HandshakeAsync(server: oldSide, client: newSide);
        Assert.Equal(SslPolicyErrors.None, serverSaw.Errors);                 // old-root truster accepted the new leaf via the cross-sign
        Assert.Equal(newLeaf.Id.Uri, serverSaw.PeerUri);
        Assert.Equal(SslPolicyErrors.None, clientSaw.Errors & ~SslPolicyErrors.RemoteCertificateNameMismatch);
        Assert.Equal(oldLeaf.Id.Uri, clientSaw.PeerUri);

        // Roles swapped: the new leaf serves, the old leaf connects.
        using var oldSide2 = Party.Create(oldLeaf, oldLeafKey, oldRootPem);
        using var newSide2 = Party.Create(newLeaf, newLeafKey, bundle);
        var (s2, c2) = await HandshakeAsync(server: newSide2, client: oldSide2);
        Assert.Equal(SslPolicyErrors.None, s2.Errors);
        Assert.Equal(SslPolicyErrors.None, c2.Errors & ~SslPolicyErrors.RemoteCertificateNameMismatch);

        // What the design does not give: a new-root-only truster rejects the old leaf.
        using var oldSide3 = Party.Create(oldLeaf, oldLeafKey, oldRootPem);
        using var newOnly = Party.Create(newLeaf, newLeafKey, newRootPem);
        var observed = new Seen?[1];
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(server: newOnly, client: oldSide3, observed));
        Assert.Equal(new Seen(SslPolicyErrors.RemoteCertificateChainErrors, oldLeaf.Id.Uri), observed[0]);

        using var ssl = new OpenSsl();
        ssl.AssertVerifies(oldRootPem, crossPem, newLeaf.LeafPem);
        ssl.AssertVerifies(bundle, null, oldLeaf.LeafPem);
        Assert.False(ssl.Verify(newRootPem, crossPem, oldLeaf.LeafPem).Ok);
    }
}
