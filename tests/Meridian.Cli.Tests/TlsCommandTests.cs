using System.Diagnostics;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class TlsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meridian-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public async Task TlsCaAndCertCreate_WriteConsulStyleFiles_ThatOpenSslVerifies()
    {
        Assert.Equal(ExitCodes.Ok, (await new CliHarness().RunAsync("tls", "ca", "create", "--out", _dir)).ExitCode);
        var server = await new CliHarness().RunAsync("tls", "cert", "create", "--server", "--dc", "dc1", "--out", _dir);
        Assert.Equal(ExitCodes.Ok, server.ExitCode);
        Assert.Contains($"==> Saved {P("dc1-server-meridian-0.pem")}", server.Stdout);
        var second = await new CliHarness().RunAsync("tls", "cert", "create", "--server", "--dc", "dc1", "--out", _dir);
        Assert.Contains("dc1-server-meridian-1.pem", second.Stdout);
        Assert.Equal(ExitCodes.Ok, (await new CliHarness().RunAsync("tls", "cert", "create", "--client", "--dc", "dc1", "--out", _dir)).ExitCode);

        foreach (var key in new[] { "meridian-agent-ca-key.pem", "dc1-server-meridian-0-key.pem", "dc1-client-meridian-0-key.pem" })
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P(key)));
        var verified = OpenSsl("verify", "-verify_hostname", "server.dc1.meridian", "-CAfile", P("meridian-agent-ca.pem"), P("dc1-server-meridian-0.pem"));
        Assert.Contains(": OK", verified);
        var text = OpenSsl("x509", "-noout", "-ext", "subjectAltName", "-in", P("dc1-server-meridian-0.pem"));
        Assert.Contains("DNS:server.dc1.meridian, DNS:localhost, IP Address:127.0.0.1", text);
        Assert.Contains("DNS:client.dc1.meridian", OpenSsl("x509", "-noout", "-ext", "subjectAltName", "-in", P("dc1-client-meridian-0.pem")));
        Assert.Contains(": OK", OpenSsl("verify", "-purpose", "sslclient", "-CAfile", P("meridian-agent-ca.pem"), P("dc1-client-meridian-0.pem")));
    }

    [Fact]
    public async Task TlsCreate_TakesTheTimeFromTheCliClock()
    {
        var now = new DateTimeOffset(2031, 3, 4, 5, 6, 7, TimeSpan.Zero);
        var ca = new CliHarness { Clock = new FixedClock(now) };
        Assert.Equal(ExitCodes.Ok, (await ca.RunAsync("tls", "ca", "create", "--out", _dir)).ExitCode);
        var cert = new CliHarness { Clock = new FixedClock(now.AddDays(1)) };
        Assert.Equal(ExitCodes.Ok, (await cert.RunAsync("tls", "cert", "create", "--client", "--dc", "dc1", "--days", "30", "--out", _dir)).ExitCode);

        using var issued = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(P("dc1-client-meridian-0.pem")));
        Assert.InRange(issued.NotBefore.ToUniversalTime(), now.AddDays(1).AddHours(-1).UtcDateTime, now.AddDays(1).UtcDateTime);
        Assert.InRange(issued.NotAfter.ToUniversalTime(), now.AddDays(30).UtcDateTime, now.AddDays(31).UtcDateTime);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task TlsCaCreate_WhenTheCaExists_Exits2AndKeepsTheKey()
    {
        Assert.Equal(ExitCodes.Ok, (await new CliHarness().RunAsync("tls", "ca", "create", "--out", _dir)).ExitCode);
        var key = File.ReadAllText(P("meridian-agent-ca-key.pem"));
        var again = await new CliHarness().RunAsync("tls", "ca", "create", "--out", _dir);
        Assert.Equal(ExitCodes.BadInput, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
        Assert.Equal(key, File.ReadAllText(P("meridian-agent-ca-key.pem")));
    }

    [Fact]
    public async Task TlsCertCreate_WithBadInput_ReportsEveryProblemAndExits2()
    {
        var result = await new CliHarness().RunAsync("tls", "cert", "create", "--dc", "dc 1", "--days", "0",
            "--additional-ipaddress", "nope", "--out", _dir);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--server:", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--dc:", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--days:", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--additional-ipaddress:", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--ca:", StringComparison.Ordinal) && l.Contains("meridian tls ca create"));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task TlsCertCreate_WithAnotherCasKey_Exits2()
    {
        var other = Path.Combine(_dir, "other");
        Assert.Equal(ExitCodes.Ok, (await new CliHarness().RunAsync("tls", "ca", "create", "--out", _dir)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await new CliHarness().RunAsync("tls", "ca", "create", "--out", other)).ExitCode);
        var result = await new CliHarness().RunAsync("tls", "cert", "create", "--server", "--out", _dir,
            "--key", Path.Combine(other, "meridian-agent-ca-key.pem"));
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("does not belong", result.Stderr);
    }

    private static string OpenSsl(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), "openssl did not finish in 30 s");
        Assert.True(p.ExitCode == 0, $"openssl {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
