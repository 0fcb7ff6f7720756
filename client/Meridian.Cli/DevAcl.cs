using System.Security.Cryptography;

namespace Meridian.Cli;

/// <summary>
/// The ACL files of <c>meridian dev --acl</c>, in a new temporary directory (mode 0700) deleted when the run ends: the
/// SecretID hashing key every datacenter of the run shares (tokens replicate, so every datacenter must hash them alike),
/// the bootstrap reset file's path, and the SecretID the secondaries are configured with as their replication token
/// (created in the primary once it is bootstrapped).
/// </summary>
internal sealed class DevAcl : IDisposable
{
    private DevAcl(string directory) => Directory = directory;

    public string Directory { get; }

    public string KeyFile => Path.Combine(Directory, "acl-hash.key");

    public string BootstrapResetFile => Path.Combine(Directory, "acl-bootstrap-reset");

    public string ReplicationSecret { get; } = Guid.NewGuid().ToString("D");

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
