using System.Security.Cryptography;

namespace Meridian.Cli;

/// <summary>
/// The ACL files of <c>meridian dev --acl</c>, in a new temporary directory (mode 0700) deleted when the run ends: the
/// SecretID hashing key every datacenter of the run shares (tokens replicate, so every datacenter must hash them alike),
/// the bootstrap reset file's path, and the SecretID the secondaries get as their replication token once it exists in
/// the primary (created there right after its bootstrap).
/// </summary>
internal sealed class DevAcl : IDisposable
{
    private DevAcl(string directory) => Directory = directory;

    public string Directory { get; }

    public string KeyFile => Path.Combine(Directory, "acl-hash.key");

    public string BootstrapResetFile => Path.Combine(Directory, "acl-bootstrap-reset");

    public string ReplicationSecret { get; } = Guid.NewGuid().ToString("D");

    private readonly TaskCompletionSource _replicationTokenCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once <see cref="ReplicationSecret"/> exists in the primary (after its bootstrap): the secondaries start
    /// without a replication token, their loops wait quietly, and each silo gets the token then (a configuration change).
    /// </summary>
    public Task ReplicationTokenCreated => _replicationTokenCreated.Task;

    /// <summary>The primary now holds the replication token: the secondaries may send it.</summary>
    public void MarkReplicationTokenCreated() => _replicationTokenCreated.TrySetResult();

    public static DevAcl Create()
    {
        var acl = new DevAcl(System.IO.Directory.CreateTempSubdirectory("meridian-dev-acl-").FullName);
        PemFiles.Write(acl.Directory, Path.GetFileName(acl.KeyFile), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), secret: true);
        return acl;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory left behind holds only this run's key.
        }
    }
}
