using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Meridian.Client;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Proxy;

namespace Meridian.Integration.Tests;

/// <summary>
/// Issue 17: the connect proxy carries real TCP between two datacenters (dc1 primary, dc2 secondary, real silo
/// processes on PostgreSQL): web's proxy in dc1 dials db's proxy in dc2 over mutual TLS; intentions decide at db's side;
/// a root rotation in dc1 under continuous traffic breaks nothing; a prepared-query upstream fails over and back; the
/// proxy's private key never reaches the SDK.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ConnectProxyTests(FederatedSilosFixture fx) : IClassFixture<FederatedSilosFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static string NewId() => Guid.NewGuid().ToString("N")[..8];

    private async Task AllowAsync(string source, string destination, string action = "allow")
    {
        var write = await fx.Dc1Client.UpsertIntentionAsync(Federation.Intention(source, destination, action));
        Assert.True(await fx.Dc2Client.WaitForReplicatedAsync(write.Index, Deadline), $"dc2 did not apply intention index {write.Index}");
    }

    /// <summary>Until dc1 resolves <paramref name="destination"/> in dc2 to its registered sidecar.</summary>
    private async Task WaitResolvableAsync(string destination, string datacenter)
        => await Poll.UntilAsync(() => fx.Dc1Client.ResolveUpstreamAsync(null, new UpstreamDto { DestinationName = destination, Datacenter = datacenter }),
            r => r.ViaSidecar && r.Endpoints.Count == 1, Deadline, $"{destination} resolvable in {datacenter} through its sidecar");

    [Fact]
    public async Task WebInDc1_ToDbInDc2_AllowCarriesBytes_DenyStopsAtDbsSide_NoConnectionReachesDb()
    {
        await fx.EnsureUpAsync();
        var id = NewId();
        var (web, db, dbDenied) = ($"web-{id}", $"db-{id}", $"dbx-{id}");
        await using var dbApp = new EchoServer();
        await using var deniedApp = new EchoServer();
        await using var dbProxy = await Proxies.StartAsync(fx.Dc2Client, Proxies.Inbound(db, dbApp, $"node-{db}"));
        await using var deniedProxy = await Proxies.StartAsync(fx.Dc2Client, Proxies.Inbound(dbDenied, deniedApp, $"node-{dbDenied}"));
        await using var webProxy = await Proxies.StartAsync(fx.Dc1Client, Proxies.Upstreams(web,
            ProxyUpstream.Parse($"{db}:1:dc2") with { LocalBindPort = 0 }, ProxyUpstream.Parse($"{dbDenied}:1:dc2") with { LocalBindPort = 0 }));
        await AllowAsync(web, db);
        await AllowAsync(web, dbDenied, "deny");
        await WaitResolvableAsync(db, "dc2");
        await WaitResolvableAsync(dbDenied, "dc2");

        // Allowed: the bytes go web -> dc1 proxy -> (mTLS) -> dc2 proxy -> db and back.
        var payload = "hello db " + new string('x', 100_000);
        Assert.Equal(payload, await ProxyClient.ExchangeAsync(Proxies.Local(webProxy, db), payload));
        Assert.Equal(1, dbApp.Accepted);
        Assert.Equal((1, 0L, 0L), (dbProxy.Counters.AcceptedInbound, dbProxy.Counters.Refused, dbProxy.Counters.Failed));
        Assert.True(dbProxy.Counters.Bytes >= 2 * payload.Length, $"db's proxy counted {dbProxy.Counters.Bytes} bytes");
        Assert.Equal(1, webProxy.Counters.AcceptedUpstream);

        // Denied: the handshake completes (web's proxy trusts db's), db's proxy asks authorize and closes: nothing echoes.
        var answer = await ProxyClient.ExchangeAsync(Proxies.Local(webProxy, dbDenied), "must not arrive");
        Assert.Equal("", answer);
        Assert.Equal((0, 1L, 0L), (deniedApp.Accepted, deniedProxy.Counters.Refused, deniedProxy.Counters.AcceptedInbound));
        Assert.Equal(0L, deniedProxy.Counters.Bytes);

        // The registration is what dc1 resolved; stopping deregisters it.
        var registered = Assert.Single((await fx.Dc2Client.GetServiceHealthAsync($"{db}-sidecar-proxy", passingOnly: true)).Instances);
        Assert.Equal(("connect-proxy", db, dbProxy.InboundEndpoint!.Port), (registered.Service.Kind, registered.Service.Proxy!.DestinationServiceName, registered.Service.Port));
        Assert.Contains(registered.Checks, c => c.CheckID == dbProxy.CheckId && c.Type == "ttl" && c.Status == "passing");
        await dbProxy.StopAsync();
        Assert.Empty((await fx.Dc2Client.GetServiceHealthAsync($"{db}-sidecar-proxy")).Instances);
    }

    [Fact]
    public async Task DeadInstanceAmongHealthyOnes_EveryConnectionStillArrives_TheDeadOneIsSkipped()
    {
        await fx.EnsureUpAsync();
        var id = NewId();
        var (web, db) = ($"web-{id}", $"db-{id}");
        await using var dbApp = new EchoServer();
        await using var dbProxy = await Proxies.StartAsync(fx.Dc2Client, Proxies.Inbound(db, dbApp, $"node-{db}"));
        // A second sidecar of db that the catalog calls healthy but nothing listens on (its process died a moment ago).
        var deadPort = FreePorts.Take(1)[0];
        await fx.Dc2Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = $"node-{db}-dead", Address = "127.0.0.1",
            Service = new NodeServiceDto { Kind = "connect-proxy", ID = $"{db}-sidecar-proxy", Service = $"{db}-sidecar-proxy", Port = deadPort,
                Proxy = new ProxyDto { DestinationServiceName = db, LocalServicePort = 1 } },
        });
        await using var webProxy = await Proxies.StartAsync(fx.Dc1Client, Proxies.Upstreams(web, ProxyUpstream.Parse($"{db}:1:dc2") with { LocalBindPort = 0 }));
        await AllowAsync(web, db);
        await Poll.UntilAsync(() => fx.Dc1Client.ResolveUpstreamAsync(null, new UpstreamDto { DestinationName = db, Datacenter = "dc2" }),
            r => r.Endpoints.Count == 2, Deadline, $"{db} resolvable to both sidecars");

        // Random order: about half the connections try the dead one first; every one must still arrive.
        for (var i = 0; i < 12; i++)
            Assert.Equal($"try-{i}", await ProxyClient.ExchangeAsync(Proxies.Local(webProxy, db), $"try-{i}"));
        Assert.Equal(12, dbApp.Accepted);
        Assert.Equal((12L, 0L, 0L), (webProxy.Counters.AcceptedUpstream, webProxy.Counters.Failed, webProxy.Counters.Refused));
    }

    [Fact]
    public async Task RootRotationInDc1_UnderContinuousTraffic_NoFailedConnection_NoBrokenStream_NewHandshakesUseNewCertificate()
    {
        await fx.EnsureUpAsync();
        var id = NewId();
        var (web, db) = ($"web-{id}", $"db-{id}");
        // Every client certificate db's proxy saw from web, in handshake order.
        var seenAtDb = new ConcurrentQueue<string>();
        await using var dbApp = new EchoServer();
        await using var dbProxy = await Proxies.StartAsync(fx.Dc2Client, Proxies.Inbound(db, dbApp, $"node-{db}",
            h => { if (h.PeerUri.EndsWith("/svc/" + web, StringComparison.Ordinal)) seenAtDb.Enqueue(h.PeerSerial); }));
        await using var webProxy = await Proxies.StartAsync(fx.Dc1Client, Proxies.Upstreams(web, ProxyUpstream.Parse($"{db}:1:dc2") with { LocalBindPort = 0 }));
        await AllowAsync(web, db);
        await WaitResolvableAsync(db, "dc2");
        var local = Proxies.Local(webProxy, db);
        var oldSerial = webProxy.Identity.Current.Certificate.SerialNumber;
        var oldRoot = (await fx.Dc1Client.GetCaRootsAsync()).ActiveRootID;

        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var connections = 0;
        // New connections at a steady rate, one after the other (so handshake order at db's side is connection order).
        var newConnections = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var message = $"conn-{i}";
                try
                {
                    var echoed = await ProxyClient.ExchangeAsync(local, message);
                    if (echoed != message) failures.Enqueue($"connection {i}: got '{echoed}'");
                }
                catch (Exception e)
                {
                    failures.Enqueue($"connection {i}: {e.GetType().Name} {e.Message}");
                }
                Interlocked.Increment(ref connections);
                await Task.Delay(20); // pacing of the load, not synchronisation
            }
        });
        // Long-lived streams opened before the rotation: each keeps exchanging lines through it.
        var roundTrips = new int[4];
        var streams = Enumerable.Range(0, roundTrips.Length).Select(s => Task.Run(async () =>
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(local);
            var stream = client.GetStream();
            var buffer = new byte[64];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var line = Encoding.ASCII.GetBytes($"s{s}-{n:D8}\n");
                try
                {
                    await stream.WriteAsync(line);
                    await stream.ReadExactlyAsync(buffer.AsMemory(0, line.Length));
                }
                catch (Exception e)
                {
                    failures.Enqueue($"stream {s} broke after {n} round trips: {e.GetType().Name} {e.Message}");
                    return;
                }
                if (!buffer.AsSpan(0, line.Length).SequenceEqual(line)) failures.Enqueue($"stream {s}: wrong echo at {n}");
                Interlocked.Increment(ref roundTrips[s]);
                await Task.Delay(20); // pacing
            }
        })).ToArray();

        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref connections)), c => c >= 20, Deadline, "20 connections before the rotation");
        var rotated = await fx.Dc1Client.RotateCaAsync();
        Assert.NotEqual(oldRoot, rotated.ActiveRootID);
        // web's proxy notices the new root and has a certificate under it signed from a new CSR.
        await Poll.UntilAsync(() => Task.FromResult(webProxy.Identity.Current.Certificate.RootID), r => r == rotated.ActiveRootID, Deadline,
            $"web's proxy on the new root {rotated.ActiveRootID}");
        var newSerial = webProxy.Identity.Current.Certificate.SerialNumber;
        var atReissue = Volatile.Read(ref connections);
        var streamTripsAtReissue = Enumerable.Range(0, roundTrips.Length).Select(i => Volatile.Read(ref roundTrips[i])).ToArray();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref connections)), c => c >= atReissue + 40, Deadline, "40 connections after the re-issue");
        await Poll.UntilAsync(() => Task.FromResult(Enumerable.Range(0, roundTrips.Length).Select(i => Volatile.Read(ref roundTrips[i])).ToArray()),
            t => t.Zip(streamTripsAtReissue).All(p => p.First >= p.Second + 10), Deadline, "every stream 10 round trips past the re-issue");
        await stop.CancelAsync();
        await newConnections;
        await Task.WhenAll(streams);

        Assert.True(failures.IsEmpty, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(10)));
        Assert.Equal(0L, webProxy.Counters.Failed + webProxy.Counters.Refused);
        Assert.Equal(0L, dbProxy.Counters.Failed + dbProxy.Counters.Refused);
        Assert.NotEqual(oldSerial, newSerial);
        // Counted, not sampled: db saw web's old certificate up to the re-issue, then only the new one (one switch).
        var seen = seenAtDb.ToArray();
        var firstNew = Array.IndexOf(seen, newSerial);
        Assert.True(firstNew > 0, $"db never saw web's new certificate {newSerial}: {seen.Length} handshakes");
        var afterSwitch = seen[firstNew..];
        Assert.All(afterSwitch, s => Assert.Equal(newSerial, s));
        Assert.True(afterSwitch.Length >= 40, $"only {afterSwitch.Length} handshakes with the new certificate");
        Assert.All(seen[..firstNew], s => Assert.Equal(oldSerial, s));
        Assert.Equal(seen.Length, (int)dbProxy.Counters.AcceptedInbound);

        // openssl agrees: the new certificate chains to the new root, and (cross-signed) to the old one.
        var roots = await fx.Dc1Client.GetCaRootsAsync();
        var cert = webProxy.Identity.Current.Certificate.CertPEM;
        await OpenSsl.AssertChainsToAsync(cert, roots.Roots.Single(r => r.ID == rotated.ActiveRootID).RootCert, "new proxy certificate, new root");
        await OpenSsl.AssertChainsToAsync(cert, roots.Roots.Single(r => r.ID == oldRoot).RootCert, "new proxy certificate, old root (cross-signed)");
    }

    [Fact]
    public async Task KeyCustody_OnlyTheCsrLeavesTheProxy_TheSdkNeverSeesThePrivateKey_OpenSslChecksCsrAndCertificate()
    {
        await fx.EnsureUpAsync();
        var web = $"web-{NewId()}";
        var (client, recorder) = RecordingClient.Wrap(fx.Dc1Client);
        await using var proxy = await Proxies.StartAsync(client, Proxies.Upstreams(web, new ProxyUpstream(ProxyUpstream.Service, "db", "", "127.0.0.1", 0)));
        var snapshot = proxy.Identity.Current;

        // The key the proxy holds (the test reads it from the proxy's own TLS context, in this process).
        using var key = snapshot.Context.TargetCertificate.GetECDsaPrivateKey()!;
        var d = key.ExportParameters(includePrivateParameters: true).D!;
        var secrets = new[] { Convert.ToHexString(d), Convert.ToBase64String(d), Convert.ToBase64String(key.ExportECPrivateKey()), Convert.ToBase64String(key.ExportPkcs8PrivateKey()) };
        var sent = string.Join("\n", recorder.Calls.SelectMany(c => c.Args.Where(a => a is not CancellationToken).Select(a => c.Method + ": " + System.Text.Json.JsonSerializer.Serialize(a))));
        foreach (var secret in secrets) Assert.DoesNotContain(secret, sent, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("PRIVATE KEY", sent, StringComparison.Ordinal);

        var sign = Assert.Single(recorder.Calls, c => c.Method == nameof(IMeridianClient.SignCertificateAsync));
        Assert.Equal(web, sign.Args[0]);
        var csr = Assert.IsType<string>(sign.Args[1]);
        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----", csr);
        Assert.DoesNotContain(recorder.Calls, c => c.Method == nameof(IMeridianClient.GetCertificateAsync)); // never the server-made key

        // openssl: the CSR's self-signature verifies, it carries the SPIFFE ID and only the public key, the same one
        // the certificate certifies; the certificate chains to the datacenter's roots.
        var dir = Directory.CreateTempSubdirectory("meridian-proxy-csr-");
        try
        {
            var csrFile = Path.Combine(dir.FullName, "proxy.csr");
            await File.WriteAllTextAsync(csrFile, csr);
            var text = await Commands.RunAsync("openssl", "req", "-in", csrFile, "-noout", "-text", "-verify");
            Assert.True(text.ExitCode == 0, text.ToString());
            Assert.Contains("verify OK", text.Stdout + text.Stderr, StringComparison.OrdinalIgnoreCase);
            Assert.Contains($"/svc/{web}", text.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("priv:", text.Stdout, StringComparison.Ordinal);
            var csrKey = await Commands.RunAsync("openssl", "req", "-in", csrFile, "-noout", "-pubkey");
            var certFile = Path.Combine(dir.FullName, "cert.pem");
            await File.WriteAllTextAsync(certFile, snapshot.Certificate.CertPEM);
            var certKey = await Commands.RunAsync("openssl", "x509", "-in", certFile, "-noout", "-pubkey");
            Assert.Equal(certKey.Stdout, csrKey.Stdout);
            Assert.Contains("PUBLIC KEY", csrKey.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        var roots = await fx.Dc1Client.GetCaRootsAsync();
        await OpenSsl.AssertChainsToAsync(snapshot.Certificate.CertPEM, string.Join("", roots.Roots.Select(r => r.RootCert)), "proxy certificate");
        Assert.Equal("", snapshot.Certificate.PrivateKeyPEM); // the CA never made (or returned) a key
    }

    [Fact]
    public async Task PreparedQueryUpstream_Dc1DbCritical_NewConnectionsReachDc2_ThenReturnToDc1()
    {
        await fx.EnsureUpAsync();
        var id = NewId();
        var (web, db, query) = ($"web-{id}", $"db-{id}", $"db-geo-{id}");
        await using var db1App = new EchoServer("dc1:");
        await using var db2App = new EchoServer("dc2:");
        var node1 = $"node-{db}-1";
        await using var db1Proxy = await Proxies.StartAsync(fx.Dc1Client, Proxies.Inbound(db, db1App, node1));
        await using var db2Proxy = await Proxies.StartAsync(fx.Dc2Client, Proxies.Inbound(db, db2App, $"node-{db}-2"));
        await fx.Dc1Client.CreatePreparedQueryAsync(new PreparedQueryDto
        {
            Name = query,
            Service = new ServiceQueryDto { Service = db, Failover = new QueryFailoverDto { Datacenters = ["dc2"] } },
        });
        await using var webProxy = await Proxies.StartAsync(fx.Dc1Client, Proxies.Upstreams(web, ProxyUpstream.Parse($"query:{query}:1") with { LocalBindPort = 0 }));
        await AllowAsync(web, db);
        var local = Proxies.Local(webProxy, query);

        Assert.Equal("dc1:ping", await ProxyClient.ExchangeAsync(local, "ping"));
        // db in dc1 goes critical (its node's health check): new connections fail over to dc2 ...
        await NodeHealthAsync(node1, "critical");
        await Poll.UntilAsync(() => ProxyClient.ExchangeAsync(local, "ping"), a => a == "dc2:ping", Deadline, "a connection answered by dc2's db");
        Assert.Equal("dc2:ping", await ProxyClient.ExchangeAsync(local, "ping"));
        // ... and come back when it recovers.
        await NodeHealthAsync(node1, "passing");
        await Poll.UntilAsync(() => ProxyClient.ExchangeAsync(local, "ping"), a => a == "dc1:ping", Deadline, "a connection answered by dc1's db again");
        Assert.Equal(0L, webProxy.Counters.Failed + webProxy.Counters.Refused);
        Assert.True(db2App.Accepted >= 2 && db1App.Accepted >= 2, $"dc1 db {db1App.Accepted}, dc2 db {db2App.Accepted} connections");
    }

    [Fact]
    public async Task Cli_TwoProxyProcesses_ReadyLines_CarryBytes_SigtermDrainsOpenStream_Deregisters_ExitsZero()
    {
        await fx.EnsureUpAsync();
        var id = NewId();
        var (web, db) = ($"web-{id}", $"db-{id}");
        var ports = FreePorts.Take(2);
        await using var dbApp = new EchoServer();
        await using var dbProcess = ChildProcess.StartDotnet(Binaries.Cli, ["connect", "proxy", "--gateway", fx.Dc2Gateway, "--datacenter", "dc2",
            "--service", db, "--listen", $"127.0.0.1:{ports[0]}", "--local-app", $"127.0.0.1:{dbApp.Port}", "--node", $"node-{db}", "--drain-timeout", "20"]);
        await using var webProcess = ChildProcess.StartDotnet(Binaries.Cli, ["connect", "proxy", "--gateway", fx.Dc1Gateway,
            "--service", web, "--upstream", $"{db}:{ports[1]}:dc2"]);
        Assert.Contains($"public listener 127.0.0.1:{ports[0]} -> 127.0.0.1:{dbApp.Port}",
            await dbProcess.WaitForLineAsync(l => l.StartsWith("==> Meridian connect proxy for", StringComparison.Ordinal), Deadline));
        Assert.Contains($"upstream {db} (dc2) on 127.0.0.1:{ports[1]}",
            await webProcess.WaitForLineAsync(l => l.StartsWith("==> Meridian connect proxy for", StringComparison.Ordinal), Deadline));
        await AllowAsync(web, db);
        var local = new IPEndPoint(IPAddress.Loopback, ports[1]);
        Assert.Equal("through two processes", await ProxyClient.ExchangeAsync(local, "through two processes"));

        // A stream open when SIGTERM arrives keeps working while the proxy drains; new connections are no longer accepted.
        using var stream = new TcpClient { NoDelay = true };
        await stream.ConnectAsync(local);
        var net = stream.GetStream();
        var buffer = new byte[5];
        await net.WriteAsync("first"u8.ToArray());
        await net.ReadExactlyAsync(buffer);
        var term = await Commands.RunAsync("kill", "-TERM", dbProcess.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, term.ExitCode);
        await Poll.UntilAsync(() => Task.FromResult(dbProcess.Output), o => o.Contains("draining", StringComparison.Ordinal), Deadline, "the drain log line");
        await Poll.UntilAsync(async () => (await fx.Dc2Client.GetServiceHealthAsync($"{db}-sidecar-proxy")).Instances.Length, n => n == 0, Deadline, "deregistered at stop");
        await net.WriteAsync("after"u8.ToArray());
        await net.ReadExactlyAsync(buffer);
        Assert.Equal("after", Encoding.ASCII.GetString(buffer));
        Assert.False(dbProcess.HasExited, "the proxy exited while a connection was still open");
        stream.Client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await dbProcess.WaitForExitAsync(Deadline));
        Assert.Contains("==> stopped: 2 inbound and 0 upstream connections carried, 0 refused, 0 failed", dbProcess.Output, StringComparison.Ordinal);
        Assert.Equal(2, dbApp.Accepted);
    }

    private Task NodeHealthAsync(string node, string status) => fx.Dc1Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
    {
        Node = node,
        Address = "127.0.0.1",
        Check = new HealthCheckDto { Node = node, CheckID = "node-health", Name = "node health", Status = status },
    });
}

/// <summary>Pure pieces of the proxy: flags and identity comparison.</summary>
[Trait("Category", "Unit")]
public sealed class ProxyRulesTests
{
    [Theory]
    [InlineData("db:9191", "service", "db", "", 9191)]
    [InlineData("db:9191:dc2", "service", "db", "dc2", 9191)]
    [InlineData("query:db-geo:9192", "prepared_query", "db-geo", "", 9192)]
    public void UpstreamFlag_Valid_Parses(string flag, string type, string name, string dc, int port)
    {
        var u = ProxyUpstream.Parse(flag);
        Assert.Equal((type, name, dc, "127.0.0.1", port), (u.DestinationType, u.DestinationName, u.Datacenter, u.LocalBindAddress, u.LocalBindPort));
    }

    [Theory]
    [InlineData("db")]
    [InlineData("db:0")]
    [InlineData("db:70000")]
    [InlineData(":9191")]
    [InlineData("db:9191:")]
    [InlineData("query:db-geo")]
    [InlineData("query::9192")]
    [InlineData("db:port")]
    public void UpstreamFlag_Invalid_NamesTheFlagAndTheForm(string flag)
    {
        var ex = Assert.Throws<Meridian.Core.Validation.DomainValidationException>(() => ProxyUpstream.Parse(flag));
        var p = Assert.Single(ex.Problems);
        Assert.Equal("--upstream", p.Field);
        Assert.Contains("NAME:PORT[:DC]", p.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spiffe://a.consul/ns/default/dc/dc2/svc/db", "spiffe://b.consul/ns/default/dc/dc2/svc/db", true)]
    [InlineData("spiffe://a.consul/ns/default/dc/DC2/svc/DB", "spiffe://a.consul/ns/default/dc/dc2/svc/db", true)]
    [InlineData("spiffe://a.consul/ns/default/dc/dc1/svc/db", "spiffe://a.consul/ns/default/dc/dc2/svc/db", false)]
    [InlineData("spiffe://a.consul/ns/default/dc/dc2/svc/web", "spiffe://a.consul/ns/default/dc/dc2/svc/db", false)]
    [InlineData("spiffe://a.consul/ns/default/dc/dc2/svc/db-x", "spiffe://a.consul/ns/default/dc/dc2/svc/db", false)]
    [InlineData("https://a.consul/ns/default/dc/dc2/svc/db", "spiffe://a.consul/ns/default/dc/dc2/svc/db", false)]
    public void SameService_IgnoresTrustDomainAndCase_NothingElse(string presented, string expected, bool same)
        => Assert.Equal(same, PeerVerification.SameService(presented, expected));

    [Fact]
    public void Options_EveryProblemAtOnce_EachNamingItsField()
    {
        var o = new ProxyOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 21000),
            CheckTtl = TimeSpan.Zero,
            Upstreams = [new("service", "db", "", "127.0.0.1", 9191), new("service", "db", "dc2", "127.0.0.1", 9191), new("service", "x", "", "localhost", 1)],
        };
        var fields = o.Validate().Select(p => p.Field).ToList();
        Assert.Equal(["Service", "LocalApp", "CheckTtl", "Upstreams[1].LocalBindPort", "Upstreams[2].LocalBindAddress"], fields);
    }

    [Fact]
    public void SidecarFor_RegisteredProxy_GivesListenerLocalAppUpstreams_AndDoesNotRegisterAgain()
    {
        var o = SidecarRegistration.FromRegistration(new CheckServiceNodeDto
        {
            Node = new CatalogNodeDto { Node = "n1", Address = "10.0.0.1" },
            Service = new NodeServiceDto
            {
                Kind = "connect-proxy", ID = "web-sidecar-proxy", Service = "web-sidecar-proxy", Port = 21000,
                Proxy = new ProxyDto
                {
                    DestinationServiceName = "web", LocalServicePort = 8080,
                    Upstreams = [new UpstreamDto { DestinationName = "db", Datacenter = "dc2", LocalBindPort = 9191 },
                        new UpstreamDto { DestinationType = "prepared_query", DestinationName = "geo", LocalBindAddress = "127.0.0.2", LocalBindPort = 9192 }],
                },
            },
        });
        Assert.Equal(("web", "0.0.0.0:21000", "127.0.0.1", 8080, false, "web-sidecar-proxy", "n1"),
            (o.Service, o.Listen!.ToString(), o.LocalApp!.Host, o.LocalApp.Port, o.ShouldRegister, o.EffectiveProxyId, o.Node));
        Assert.Equal([new ProxyUpstream("service", "db", "dc2", "127.0.0.1", 9191), new ProxyUpstream("prepared_query", "geo", "", "127.0.0.2", 9192)], o.Upstreams);
        Assert.Empty(o.Validate());
    }
}
