namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class CertFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"meridian-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task CertGetOut_WritesCertKeyAndTrustBundle_PrintsPathsNotKey()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("cert", "get", "--service", "web", "--out", _directory);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(cli.Client.Certificate.CertPEM, File.ReadAllText(Path.Combine(_directory, "cert.pem")));
        Assert.Equal(cli.Client.Certificate.PrivateKeyPEM, File.ReadAllText(Path.Combine(_directory, "key.pem")));
        var bundle = File.ReadAllText(Path.Combine(_directory, "ca.pem"));
        Assert.Contains("ROOT1", bundle);
        Assert.Contains("ROOT0", bundle);
        Assert.DoesNotContain("INTER1", bundle);
        Assert.Contains(Path.Combine(_directory, "key.pem"), result.Stdout);
        Assert.DoesNotContain("SECRET", result.Stdout);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp", SearchOption.AllDirectories));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "key.pem")));
    }

    [Fact]
    public void KeyFile_ExistingWorldReadable_IsReplacedWithMode0600()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.True(OperatingSystem.IsWindows()); // Unix modes do not exist here; ACLs of the directory apply.
            return;
        }
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, PemFiles.KeyFile);
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        PemFiles.Write(_directory, PemFiles.KeyFile, "new-key", secret: true);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("new-key\n", File.ReadAllText(path));
    }

    [Fact]
    public async Task CertSignOut_SendsTheCsrAndWritesNoKey()
    {
        Directory.CreateDirectory(_directory);
        var csr = Path.Combine(_directory, "web.csr");
        File.WriteAllText(csr, "-----BEGIN CERTIFICATE REQUEST-----\nCSR\n-----END CERTIFICATE REQUEST-----\n");
        var cli = new CliHarness();
        var outDir = Path.Combine(_directory, "out");
        var result = await cli.RunAsync("cert", "sign", "--service", "web", "--csr", csr, "--out", outDir, "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(("web", File.ReadAllText(csr)), cli.Client.Last<(string, string)>());
        Assert.True(File.Exists(Path.Combine(outDir, "cert.pem")));
        Assert.True(File.Exists(Path.Combine(outDir, "ca.pem")));
        Assert.False(File.Exists(Path.Combine(outDir, "key.pem")));
        var json = JsonFields.Parse(result.Stdout);
        Assert.Equal(["SerialNumber", "ServiceURI", "ValidAfter", "ValidBefore", "CertFile", "CAFile"], JsonFields.Names(json));
    }
}
