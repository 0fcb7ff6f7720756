using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace Meridian.Grains.Tests;

/// <summary>Chain checks with both openssl and .NET's X509Chain (custom trust), so neither verifier alone decides.</summary>
internal static class CertAssert
{
    /// <summary>The PEM blocks of <paramref name="pem"/>, in order.</summary>
    public static IReadOnlyList<X509Certificate2> Parse(string pem)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPem(pem);
        return [.. all];
    }

    /// <summary>
    /// Verifies <paramref name="certPem"/> (leaf followed by its chain) against <paramref name="rootPems"/> with
    /// <c>openssl verify -CAfile roots.pem [-untrusted chain.pem] leaf.pem</c> and with .NET.
    /// </summary>
    public static void ChainsTo(string certPem, params string[] rootPems)
    {
        var certs = Parse(certPem);
        Assert.NotEmpty(certs);
        var leaf = certs[0];
        var intermediates = certs.Skip(1).ToList();
        OpenSslVerifies(leaf, intermediates, rootPems);
        DotNetVerifies(leaf, intermediates, rootPems);
    }

    /// <summary>True when the certificate's SAN extension carries <paramref name="uri"/> (a URI GeneralName, IA5 bytes).</summary>
    public static bool HasUriSan(X509Certificate2 cert, string uri)
    {
        var san = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        var tagged = new byte[] { 0x86 }.Concat(DerLength(uri.Length)).Concat(System.Text.Encoding.ASCII.GetBytes(uri)).ToArray();
        return san.RawData.AsSpan().IndexOf(tagged) >= 0;
    }

    private static byte[] DerLength(int n) => n < 128 ? [(byte)n] : n < 256 ? [0x81, (byte)n] : [0x82, (byte)(n >> 8), (byte)n];

    public static void DotNetVerifies(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string[] rootPems)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var root in rootPems.SelectMany(Parse)) chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
        var ok = chain.Build(leaf);
        Assert.True(ok, ".NET chain build failed: " + string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation}")));
    }

    public static void OpenSslVerifies(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string[] rootPems)
    {
        var (code, output) = OpenSsl(leaf, intermediates, rootPems);
        Assert.True(code == 0 && output.Contains("leaf.pem: OK", StringComparison.Ordinal), $"openssl verify failed ({code}): {output}");
    }

    public static (int ExitCode, string Output) OpenSsl(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string[] rootPems)
    {
        var dir = Directory.CreateTempSubdirectory("meridian-verify-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "roots.pem"), string.Join("\n", rootPems.Select(p => p.Trim())) + "\n");
            File.WriteAllText(Path.Combine(dir.FullName, "leaf.pem"), leaf.ExportCertificatePem() + "\n");
            var psi = new ProcessStartInfo("openssl")
            {
                WorkingDirectory = dir.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("verify");
            psi.ArgumentList.Add("-CAfile");
            psi.ArgumentList.Add("roots.pem");
            if (intermediates.Count > 0)
            {
                File.WriteAllText(Path.Combine(dir.FullName, "chain.pem"),
                    string.Join("\n", intermediates.Select(c => c.ExportCertificatePem())) + "\n");
                psi.ArgumentList.Add("-untrusted");
                psi.ArgumentList.Add("chain.pem");
            }
            psi.ArgumentList.Add("leaf.pem");
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(30_000), "openssl verify did not finish in 30 s");
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
