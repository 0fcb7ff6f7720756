using Meridian.Silo;
using Microsoft.Extensions.Configuration;

namespace Meridian.Integration.Tests;

/// <summary>
/// <c>&lt;key&gt;_FILE</c> settings (<see cref="SecretFiles"/>): a token or connection string mounted as a file (a
/// container secret) instead of an environment variable.
/// </summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meridian-secret-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static ConfigurationManager Config(params (string Key, string Value)[] values)
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value)));
        return config;
    }

    [Fact]
    public void Apply_FileSettings_ValuesFromTheFiles_WithoutTheTrailingNewline()
    {
        var token = Write("replication-token", "6a1f3c52-58a4-4c6f-9b57-2a3c1e0d7f11\n");
        var connection = Write("connection", "Host=db;Username=meridian;Password=p\r\n");
        var config = Config(("Meridian:Acl:Tokens:Replication_FILE", token), ("Meridian:Storage:ConnectionString_FILE", connection),
            ("Meridian:Datacenter", "dc1"));

        var problems = SecretFiles.Apply(config);

        Assert.Empty(problems);
        Assert.Equal("6a1f3c52-58a4-4c6f-9b57-2a3c1e0d7f11", config["Meridian:Acl:Tokens:Replication"]);
        Assert.Equal("Host=db;Username=meridian;Password=p", config["Meridian:Storage:ConnectionString"]);
        Assert.Equal("dc1", config["Meridian:Datacenter"]);
    }

    [Fact]
    public void Apply_UnreadableFileAndBothForms_EveryProblemNamesItsKey_NeverTheValue()
    {
        var token = Write("initial", "0b6d7c8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e");
        var config = Config(("Meridian:Acl:Tokens:Replication_FILE", Path.Combine(_dir, "missing")),
            ("Meridian:Acl:Tokens:InitialManagement", "secret-in-the-environment"), ("Meridian:Acl:Tokens:InitialManagement_FILE", token),
            ("Meridian:Storage:ConnectionString_FILE", ""));

        var problems = SecretFiles.Apply(config);

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith($"Meridian:Acl:Tokens:Replication_FILE: cannot read {Path.Combine(_dir, "missing")}", StringComparison.Ordinal));
        Assert.Contains("Meridian:Acl:Tokens:InitialManagement and Meridian:Acl:Tokens:InitialManagement_FILE are both set: keep one (the file, for a secret)", problems);
        Assert.Contains("Meridian:Storage:ConnectionString_FILE is empty: give the path of the file that holds Meridian:Storage:ConnectionString", problems);
        Assert.DoesNotContain(problems, p => p.Contains("secret-in-the-environment", StringComparison.Ordinal) || p.Contains("0b6d7c8e", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_KeysOutsideMeridian_Untouched()
    {
        var file = Write("other", "value");
        var config = Config(("POSTGRES_PASSWORD_FILE", file), ("Logging:Level_FILE", file));

        var problems = SecretFiles.Apply(config);

        Assert.Empty(problems);
        Assert.Null(config["POSTGRES_PASSWORD"]);
        Assert.Null(config["Logging:Level"]);
    }
}
