namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class KeygenCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("meridian-keygen-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Keygen_NewFile_Writes32RandomBytesBase64OwnerOnly()
    {
        var path = Path.Combine(_dir.FullName, "kek.b64");
        var other = Path.Combine(_dir.FullName, "other.b64");

        var result = await new CliHarness().RunAsync("keygen", "--out", path);
        await new CliHarness().RunAsync("keygen", "--out", other);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var key = Convert.FromBase64String((await File.ReadAllTextAsync(path)).Trim());
        Assert.Equal(32, key.Length);
        Assert.NotEqual(key, Convert.FromBase64String((await File.ReadAllTextAsync(other)).Trim()));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.DoesNotContain(Convert.ToBase64String(key), result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keygen_ExistingFile_Exit2AndLeavesItAlone()
    {
        var path = Path.Combine(_dir.FullName, "kek.b64");
        await File.WriteAllTextAsync(path, "the old key");

        var result = await new CliHarness().RunAsync("keygen", "--out", path);

        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("--out: ", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal("the old key", await File.ReadAllTextAsync(path));
    }
}
