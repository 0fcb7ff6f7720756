using System.Text.RegularExpressions;

namespace Meridian.Integration.Tests.Processes;

/// <summary>The real <c>openssl</c> as the independent judge of chains.</summary>
public static partial class OpenSsl
{
    /// <summary>
    /// <c>openssl verify -CAfile ROOTS -untrusted CHAIN LEAF</c> with the first PEM block of <paramref name="certPem"/>
    /// as the leaf and the rest as untrusted intermediates; asserts "OK".
    /// </summary>
    public static async Task AssertChainsToAsync(string certPem, string trustedRootsPem, string context)
    {
        var dir = Directory.CreateTempSubdirectory("meridian-verify-");
        try
        {
            var blocks = PemBlocks(certPem);
            Assert.NotEmpty(blocks);
            var leaf = Path.Combine(dir.FullName, "leaf.pem");
            var chain = Path.Combine(dir.FullName, "chain.pem");
            var roots = Path.Combine(dir.FullName, "roots.pem");
            await File.WriteAllTextAsync(leaf, blocks[0]);
            await File.WriteAllTextAsync(chain, certPem);
            await File.WriteAllTextAsync(roots, trustedRootsPem);
            var result = await Commands.RunAsync("openssl", "verify", "-CAfile", roots, "-untrusted", chain, leaf);
            Assert.True(result.ExitCode == 0 && result.Stdout.Contains(": OK", StringComparison.Ordinal), $"{context}: {result}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Each <c>-----BEGIN …-----END …-----</c> block.</summary>
    public static IReadOnlyList<string> PemBlocks(string pem) =>
        [.. PemBlock().Matches(pem).Select(m => m.Value + "\n")];

    [GeneratedRegex("-----BEGIN [A-Z ]+-----[\\s\\S]+?-----END [A-Z ]+-----")]
    private static partial Regex PemBlock();
}
