using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// <c>meridian dev --tls</c> as a real process: the three files it prints are all a client needs (CLI, curl), and a
/// client without them is refused.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class DevTlsEndToEndTests
{
    [Fact]
    public async Task DevTls_PrintedFiles_WorkForStatusUpsertAndHttps_ClientsWithoutThemAreRefused()
    {
        await using var dev = await DevProcess.StartAsync(tls: true);
        var tls = dev.TlsArguments;
        try
        {
            Assert.Equal(["--ca-file", "--client-cert", "--client-key"], [tls[0], tls[2], tls[4]]);
            var (ca, cert, key) = (tls[1], tls[3], tls[5]);
            Assert.Contains($"export MERIDIAN_CACERT={ca} MERIDIAN_CLIENT_CERT={cert} MERIDIAN_CLIENT_KEY={key}", dev.Output);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));

            var status = await dev.CliAsync([.. tls, "status", "--json"]);
            Assert.Equal("dc1", Cli.Json(status).GetProperty("Datacenter").GetString());
            var upsert = await dev.CliAsync([.. tls, "intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow"]);
            Assert.True(upsert.ExitCode == 0, upsert.ToString());
            var health = await Commands.RunAsync("curl", "-sS", "--max-time", "10", "--cacert", ca, "--cert", cert, "--key", key,
                $"https://127.0.0.1:{dev.HttpPort}/health");
            Assert.True(health.ExitCode == 0 && health.Stdout.Contains("\"status\":\"healthy\"", StringComparison.Ordinal), health.ToString());

            // Before: `dev` had no --tls (exit 2), and its gateway answered anyone in plaintext.
            var plaintext = await dev.CliAsync("status");
            Assert.True(plaintext.ExitCode == 5, plaintext.ToString());
            var caOnly = await dev.CliAsync("--ca-file", ca, "status");
            Assert.True(caOnly.ExitCode == 5, caOnly.ToString());
            Assert.Contains("requires a client certificate", caOnly.Stderr);
            var anonymousHttps = await Commands.RunAsync("curl", "-sS", "--max-time", "10", "--cacert", ca, $"https://127.0.0.1:{dev.HttpPort}/health");
            Assert.True(anonymousHttps.ExitCode != 0, anonymousHttps.ToString());
        }
        finally
        {
            // The child is killed, not stopped, so it cannot delete its throwaway CA directory itself.
            if (tls.Count > 1) Directory.Delete(Path.GetDirectoryName(tls[1])!, recursive: true);
        }
    }
}
