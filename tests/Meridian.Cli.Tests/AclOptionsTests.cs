using System.Security.Cryptography;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Silo;
using Microsoft.Extensions.Configuration;

namespace Meridian.Cli.Tests;

/// <summary><c>Meridian:Acl</c> as the silo reads it: defaults, every bad value named by its key, no secret echoed.</summary>
[Trait("Category", "Unit")]
public sealed class AclOptionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meridian-acl-options-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (AclSettings Settings, List<string> Problems) Read(params (string Key, string Value)[] values)
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
        var problems = new List<string>();
        return (AclOptions.Read(config, problems), problems);
    }

    private string KeyFile(int bytes = 32, bool shared = false)
    {
        var path = Path.Combine(_directory, $"key-{Guid.NewGuid():N}");
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, shared ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public void Absent_AclsOffWithConsulsDefaults()
    {
        var (settings, problems) = Read();
        Assert.Empty(problems);
        Assert.Equal((false, AclDefaultPolicy.Allow, AclDownPolicy.ExtendCache, TimeSpan.FromSeconds(30)),
            (settings.Enabled, settings.DefaultPolicy, settings.DownPolicy, settings.TokenTtl));
        Assert.Equal("acl-bootstrap-reset", settings.BootstrapResetFile);
    }

    [Fact]
    public void Enabled_WithKeyAndValues_Read()
    {
        var management = Guid.NewGuid().ToString("D");
        var (settings, problems) = Read(("Meridian:Acl:Enabled", "true"), ("Meridian:Acl:DefaultPolicy", "deny"),
            ("Meridian:Acl:DownPolicy", "async-cache"), ("Meridian:Acl:TokenTtl", "00:01:00"), ("Meridian:Acl:SecretHashKeyFile", KeyFile()),
            ("Meridian:Acl:Tokens:InitialManagement", management), ("Meridian:Acl:Tokens:Replication", "r-token"));
        Assert.Empty(problems);
        Assert.Equal((true, AclDefaultPolicy.Deny, AclDownPolicy.AsyncCache, TimeSpan.FromMinutes(1), management, "r-token"),
            (settings.Enabled, settings.DefaultPolicy, settings.DownPolicy, settings.TokenTtl, settings.InitialManagementToken, settings.ReplicationToken));
        Assert.NotNull(settings.Hasher);
        Assert.DoesNotContain(management, settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("r-token", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Enabled_WithoutKey_NamesTheSettingAndHowToMakeOne()
    {
        var (_, problems) = Read(("Meridian:Acl:Enabled", "true"));
        var problem = Assert.Single(problems);
        Assert.StartsWith("Meridian:Acl:SecretHashKeyFile must be set when Meridian:Acl:Enabled is true", problem, StringComparison.Ordinal);
        Assert.Contains("meridian keygen --out", problem, StringComparison.Ordinal);
        Assert.Contains("every datacenter", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BadValues_EveryProblemNamesItsKey_NoSecretEchoed()
    {
        var (_, problems) = Read(("Meridian:Acl:Enabled", "yes"), ("Meridian:Acl:DefaultPolicy", "maybe"), ("Meridian:Acl:DownPolicy", "extend"),
            ("Meridian:Acl:TokenTtl", "-00:00:05"), ("Meridian:Acl:Tokens:InitialManagement", "not-a-uuid-secret"),
            ("Meridian:Acl:SecretHashKeyFile", KeyFile(bytes: 16)));
        Assert.Contains("Meridian:Acl:Enabled: 'yes' is not true or false", problems);
        Assert.Contains("Meridian:Acl:DefaultPolicy: Unsupported default ACL policy: maybe; use allow or deny", problems);
        Assert.Contains(problems, p => p.StartsWith("Meridian:Acl:DownPolicy: Unsupported down ACL policy: extend", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Meridian:Acl:TokenTtl must be positive", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Meridian:Acl:Tokens:InitialManagement must be a UUID", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Meridian:Acl:SecretHashKeyFile:", StringComparison.Ordinal) && p.Contains("at least 32 random bytes", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("not-a-uuid-secret", StringComparison.Ordinal));
    }

    [Fact]
    public void KeyFile_ReadableByEveryone_Refused()
    {
        var path = KeyFile(shared: true);
        var (_, problems) = Read(("Meridian:Acl:Enabled", "true"), ("Meridian:Acl:SecretHashKeyFile", path));
        Assert.Equal([$"Meridian:Acl:SecretHashKeyFile: {path} is readable or writable by every user: chmod 600 {path}"], problems);
    }
}
