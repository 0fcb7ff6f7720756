using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Certificates;
using Meridian.Core.Identity;

namespace Meridian.Pki.Tests.Support;

/// <summary>Shared test material. Keys are cached per spec (RSA-4096 generation is slow) and are safe to share: signing is thread-safe.</summary>
internal static class TestPki
{
    /// <summary>A fixed instant for tests that do not hand certificates to openssl.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The real time, for certificates that openssl or TLS verify (they use the wall clock).</summary>
    public static DateTimeOffset RealNow => TimeProvider.System.GetUtcNow();

    public static readonly TrustDomain Td = new("11111111-2222-3333-4444-555555555555");
    public static readonly TrustDomain OtherTd = new("99999999-8888-7777-6666-555555555555");
    public static readonly DatacenterName Dc1 = DatacenterName.Parse("dc1");
    public static readonly DatacenterName Dc2 = DatacenterName.Parse("dc2");
    public static readonly TimeSpan LeafTtl = TimeSpan.FromHours(72);
    public static readonly TimeSpan IntermediateTtl = TimeSpan.FromDays(365);
    public static readonly TimeSpan RootTtl = TimeSpan.FromDays(3650);

    private static readonly ConcurrentDictionary<string, Lazy<CaKeyPair>> Keys = new();

    public static CaKeySpec Spec(string s)
    {
        var parts = s.Split('-');
        return new CaKeySpec(parts[0] == "ec" ? CaKeyType.Ec : CaKeyType.Rsa, int.Parse(parts[1]));
    }

    /// <summary>A cached key for <paramref name="spec"/> (e.g. <c>ec-256</c>); <paramref name="slot"/> gives distinct keys of one spec.</summary>
    public static CaKeyPair Key(string spec, int slot = 0)
        => Keys.GetOrAdd($"{spec}#{slot}", _ => new Lazy<CaKeyPair>(() => CaKeyPair.Generate(Spec(spec)))).Value;

    public static string Root(CaKeyPair key, DateTimeOffset now, ulong serial = 1, TrustDomain? td = null)
        => CaCertificates.CreateRoot(key, td ?? Td, serial, now, RootTtl);

    public static ServiceSpiffeId Web(string dc = "dc1", TrustDomain? td = null) => new((td ?? Td).Host, "default", dc, "web");

    public static byte[] NewLeafPublicKey()
    {
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return k.ExportSubjectPublicKeyInfo();
    }

    public static LeafSigner PrimarySigner(CaKeyPair key, string rootPem, SerialCounter? serials = null, IEnumerable<string>? intermediates = null,
        DatacenterName? dc = null)
        => new(key, rootPem, rootPem, intermediates ?? [], dc ?? Dc1, LeafTtl, (serials ?? new SerialCounter(100)).Next);

    /// <summary>A leaf CSR built with .NET's own <see cref="CertificateRequest"/>, independent of the code under test.</summary>
    public static string DotNetCsr(AsymmetricAlgorithm key, string[] uris, string[]? emails = null, string[]? dns = null,
        string[]? ips = null, string subjectName = "")
    {
        var subject = new X500DistinguishedName(subjectName);
        var req = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("key"),
        };
        var san = new SubjectAlternativeNameBuilder();
        foreach (var u in uris) san.AddUri(new Uri(u));
        foreach (var e in emails ?? []) san.AddEmailAddress(e);
        foreach (var d in dns ?? []) san.AddDnsName(d);
        foreach (var ip in ips ?? []) san.AddIpAddress(System.Net.IPAddress.Parse(ip));
        if (uris.Length + (emails?.Length ?? 0) + (dns?.Length ?? 0) + (ips?.Length ?? 0) > 0) req.CertificateExtensions.Add(san.Build(critical: true));
        else req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        return req.CreateSigningRequestPem();
    }

    public static string Pem(byte[] der) => PemEncoding.WriteString("CERTIFICATE", der) + "\n";

    public const string EcdsaSha256 = "1.2.840.10045.4.3.2";
    public const string Sha256Rsa = "1.2.840.113549.1.1.11";
    public static string SigOidFor(CaKeyPair key) => key.Spec.Type == CaKeyType.Ec ? EcdsaSha256 : Sha256Rsa;
}
