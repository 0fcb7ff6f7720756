using System.Diagnostics;

namespace Meridian.Pki.Tests.Support;

/// <summary>
/// Runs the openssl CLI (an independent verifier) on files in a private temp directory. openssl must be on PATH;
/// if it is not, tests fail with a message saying so rather than being skipped.
/// </summary>
internal sealed class OpenSsl : IDisposable
{
    public OpenSsl() => Dir = Directory.CreateTempSubdirectory("meridian-pki-").FullName;

    public string Dir { get; }

    public string Write(string name, string content)
    {
        File.WriteAllText(Path.Combine(Dir, name), content);
        return name;
    }

    public (int Code, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl")
        {
            WorkingDirectory = Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("openssl is required by these tests; install OpenSSL 3 and put it on PATH.", e);
        }
        using (p)
        {
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"openssl {string.Join(' ', args)} did not finish in 30 s");
            }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }

    public string RunOk(params string[] args)
    {
        var (code, o, e) = Run(args);
        Assert.True(code == 0, $"openssl {string.Join(' ', args)} exited {code}\nstdout: {o}\nstderr: {e}");
        return o;
    }

    /// <summary><c>openssl x509 -text -noout</c> of a certificate PEM.</summary>
    public string Text(string certPem)
    {
        var f = Write($"text-{Guid.NewGuid():N}.pem", certPem);
        return RunOk("x509", "-in", f, "-text", "-noout");
    }

    /// <summary>
    /// <c>openssl verify -x509_strict -CAfile roots [-untrusted helpers] cert</c> at the real current time; returns stdout+stderr
    /// and the exit code.
    /// </summary>
    public (bool Ok, string Output) Verify(string rootsPem, string? untrustedPem, string certPem)
    {
        var id = Guid.NewGuid().ToString("N");
        var args = new List<string> { "verify", "-x509_strict", "-CAfile", Write($"roots-{id}.pem", rootsPem) };
        if (!string.IsNullOrEmpty(untrustedPem)) args.AddRange(["-untrusted", Write($"untrusted-{id}.pem", untrustedPem)]);
        args.Add(Write($"cert-{id}.pem", certPem));
        var (code, o, e) = Run([.. args]);
        return (code == 0 && o.Contains(": OK"), o + e);
    }

    public void AssertVerifies(string rootsPem, string? untrustedPem, string certPem)
    {
        var (ok, output) = Verify(rootsPem, untrustedPem, certPem);
        Assert.True(ok, "openssl verify failed: " + output);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
