using System.CommandLine;
using System.Security.Cryptography;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian keygen --out FILE</c>: a key-encryption key for <c>Meridian:Ca:KeyEncryptionKeyFile</c>, 32 random
/// bytes in base64, written with mode 0600. It never overwrites: a new key cannot open the CA keys sealed with the old one.
/// </summary>
internal static class KeygenCommand
{
    /// <summary>AES-256: the size the silo requires.</summary>
    private const int KeySize = 32;

    public static Command Create(CommandRunner runner)
    {
        var output = new Option<FileInfo>("--out")
        {
            Description = "File to create (mode 0600); it must not exist", HelpName = "FILE", Required = true,
        };
        var command = new Command("keygen",
            "Create a key file (32 random bytes, base64) for Meridian:Ca:KeyEncryptionKeyFile or Meridian:Acl:SecretHashKeyFile") { output };
        runner.OnRun(command, (run, _) =>
        {
            var file = run.Required(output);
            if (file.Exists || Directory.Exists(file.FullName))
                throw new CliUsageException([new CliProblem("--out", $"{file.FullName} exists; it is never overwritten (a new key cannot open the CA keys sealed with the old one)")]);
            if (file.Directory is not { Exists: true } directory)
                throw new CliUsageException([new CliProblem("--out", $"directory {file.DirectoryName} does not exist")]);
            var path = PemFiles.Write(directory.FullName, file.Name, Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize)), secret: true);
            run.Output.Line($"Wrote a key-encryption key to {path} (mode 0600); set Meridian:Ca:KeyEncryptionKeyFile={path} on every silo of the datacenter");
            run.Output.Line($"(as Meridian:Acl:SecretHashKeyFile, copy the same file to every silo of every datacenter: tokens replicate)");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
