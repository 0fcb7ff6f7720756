using System.Security.Cryptography.X509Certificates;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// Rotation of a silo's transport certificate without a restart: the files the silo was started with are replaced on
/// disk, and the next connection (openssl <c>s_client</c>, an independent client) is served the new certificate.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class TlsReloadTests
{
    [Fact]
    public async Task TlsSilo_CertificateFilesReplaced_NewConnectionsGetTheNewCertificate_BrokenFileKeepsIt()
    {
        var dir = Directory.CreateTempSubdirectory("meridian-tls-reload-").FullName;
        try
        {
            string F(string name) => Path.Combine(dir, name);
            foreach (var args in new[]
                     {
                         new[] { "tls", "ca", "create", "--out", dir },
                         ["tls", "cert", "create", "--server", "--dc", "dc1", "--out", dir],
                         ["tls", "cert", "create", "--server", "--dc", "dc1", "--out", dir],
                     })
            {
                var made = await Cli.RunAsync(args);
                Assert.True(made.ExitCode == 0, made.ToString());
            }
            // The silo serves copies, so the test can replace them under it.
            File.Copy(F("dc1-server-meridian-0.pem"), F("served.pem"));
            File.Copy(F("dc1-server-meridian-0-key.pem"), F("served-key.pem"));
            var first = X509Certificate2.CreateFromPem(File.ReadAllText(F("dc1-server-meridian-0.pem"))).SerialNumber;
            var second = X509Certificate2.CreateFromPem(File.ReadAllText(F("dc1-server-meridian-1.pem"))).SerialNumber;
            Assert.NotEqual(first, second);

            var ports = FreePorts.Take(3);
            await using var silo = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
                new Dictionary<string, string>
                {
                    ["Meridian__Storage__Provider"] = "Memory",
                    ["Meridian__Tls__CaFile"] = F("meridian-agent-ca.pem"),
                    ["Meridian__Tls__CertFile"] = F("served.pem"),
                    ["Meridian__Tls__KeyFile"] = F("served-key.pem"),
                    ["Meridian__Tls__VerifyServerHostname"] = "true",
                    ["Meridian__Tls__ReloadInterval"] = "00:00:00.200",
                }, new SiloHttps(F("meridian-agent-ca.pem")));
            Assert.Equal(first, await ServedSerialAsync(silo, F("meridian-agent-ca.pem")));

            // Rotate: the new key and certificate over the served files (in two steps, as a deployment tool would:
            // between them the pair does not match and must not be taken).
            File.Copy(F("dc1-server-meridian-1-key.pem"), F("served-key.pem"), overwrite: true);
            File.Copy(F("dc1-server-meridian-1.pem"), F("served.pem"), overwrite: true);
            await EventuallyAsync(silo, async () => await ServedSerialAsync(silo, F("meridian-agent-ca.pem")) == second,
                "the rotated certificate was not served");
            Assert.False(silo.HasExited);
            Assert.Contains("Transport TLS files reloaded", silo.Output);
            // The HTTPS port (health, dashboard) serves the same files.
            Assert.Equal(second, await ServedSerialAsync(silo, F("meridian-agent-ca.pem"), $"127.0.0.1:{silo.HttpPort}"));

            // A broken certificate file: refused with a warning, the rotated certificate stays in use.
            await File.WriteAllTextAsync(F("served.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
            await EventuallyAsync(silo, () => Task.FromResult(silo.Output.Contains("were not loaded; the previous certificate stays in use", StringComparison.Ordinal)),
                "the broken file was not reported");
            Assert.Equal(second, await ServedSerialAsync(silo, F("meridian-agent-ca.pem")));
            Assert.Contains("Meridian:Tls:CertFile/KeyFile", silo.Output);
            Assert.DoesNotContain("PRIVATE KEY", silo.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The serial of the certificate openssl s_client is served on a new connection (verified against the CA and name).
    private static async Task<string> ServedSerialAsync(SiloProcess silo, string caFile, string? endpoint = null)
    {
        var result = await Commands.RunAsync("openssl", TimeSpan.FromSeconds(30),
            ["s_client", "-connect", endpoint ?? silo.Gateway, "-CAfile", caFile, "-verify_return_error", "-verify_hostname", "server.dc1.meridian",
             "-servername", "server.dc1.meridian"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var pem = OpenSsl.PemBlocks(result.Stdout).First(b => b.StartsWith("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal));
        return X509Certificate2.CreateFromPem(pem).SerialNumber;
    }

    private static async Task EventuallyAsync(SiloProcess silo, Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await condition()) return;
            // Polling a real condition (a new TLS connection or the silo's log), bounded by the deadline.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
        Assert.Fail($"{failure} within 30 s. Silo output:\n{silo.Output}");
    }
}
