using System.Security.Cryptography;
using Meridian.Core.Certificates;
using Meridian.Core.Validation;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;

namespace Meridian.Pki;

/// <summary>
/// A CA (or leaf) private key: EC P-224/P-256/P-384/P-521 or RSA. Holds the key as a .NET
/// <see cref="ECDsa"/>/<see cref="RSA"/> because OpenSSL-backed .NET signing is ~5x faster than BouncyCastle's
/// managed ECDSA (ORLEANS-NOTES §6). Signing is thread-safe without locks: each thread gets its own clone of
/// the key on first use.
/// </summary>
public sealed class CaKeyPair : IDisposable
{
    private static readonly int[] EcBits = [224, 256, 384, 521];

    private readonly AsymmetricAlgorithm _key;
    private readonly ThreadLocal<AsymmetricAlgorithm> _perThread;
    private readonly byte[] _publicKeyDer;

    private CaKeyPair(AsymmetricAlgorithm key)
    {
        _key = key;
        (Spec, SignatureAlgorithm) = key switch
        {
            ECDsa ec => (new CaKeySpec(CaKeyType.Ec, ec.KeySize), new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha256)),
            RSA rsa => (new CaKeySpec(CaKeyType.Rsa, rsa.KeySize), new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance)),
            _ => throw new ArgumentException("Only ECDsa and RSA keys are supported.", nameof(key)),
        };
        _publicKeyDer = key.ExportSubjectPublicKeyInfo();
        KeyId = SHA256.HashData(_publicKeyDer);
        _perThread = new ThreadLocal<AsymmetricAlgorithm>(Clone, trackAllValues: true);
    }

    /// <summary>Key type and size, e.g. <c>ec/256</c>.</summary>
    public CaKeySpec Spec { get; }

    /// <summary>The public key as DER SubjectPublicKeyInfo (PKIX).</summary>
    public byte[] PublicKeyDer => (byte[])_publicKeyDer.Clone();

    /// <summary>Consul's key id: SHA-256 of <see cref="PublicKeyDer"/> (32 bytes; used as SKI/AKI).</summary>
    public ReadOnlyMemory<byte> KeyId { get; }

    /// <summary><see cref="KeyId"/> as colon hex (95 characters), the format of <c>SigningKeyID</c>.</summary>
    public string KeyIdHex => Hex.Colon(KeyId.Span);

    /// <summary>
    /// Checks a key spec against Consul's rules (SPEC §3.1): EC 224/256/384/521, RSA 2048/4096.
    /// Returns the problems, naming the field <c>PrivateKeyBits</c>.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(CaKeySpec spec) => spec.Type switch
    {
        CaKeyType.Ec when !EcBits.Contains(spec.Bits) =>
            [new("PrivateKeyBits", ValidationCodes.InvalidValue, "EC key length must be one of (224, 256, 384, 521) bits")],
        CaKeyType.Rsa when spec.Bits is not (2048 or 4096) =>
            [new("PrivateKeyBits", ValidationCodes.InvalidValue, "RSA key length must be 2048 or 4096 bits")],
        CaKeyType.Ec or CaKeyType.Rsa => [],
        _ => [new("PrivateKeyType", ValidationCodes.InvalidValue, "private key type must be either 'ec' or 'rsa'")],
    };

    /// <summary>Generates a fresh key. Throws <see cref="DomainValidationException"/> for an unsupported spec.</summary>
    public static CaKeyPair Generate(CaKeySpec spec)
    {
        DomainValidationException.ThrowIfAny(Validate(spec));
        return spec.Type == CaKeyType.Ec
            ? new CaKeyPair(ECDsa.Create(CurveFor(spec.Bits)))
            : new CaKeyPair(RSA.Create(spec.Bits));
    }

    /// <summary>
    /// Reads a private key PEM: <c>EC PRIVATE KEY</c> (SEC1), <c>RSA PRIVATE KEY</c> (PKCS#1) or unencrypted
    /// <c>PRIVATE KEY</c> (PKCS#8). Throws <see cref="PkiException"/> (<see cref="PkiErrorCode.MalformedInput"/>).
    /// </summary>
    public static CaKeyPair FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        try
        {
            foreach (var (label, der) in PemBlocks.Read(pem))
            {
                switch (label)
                {
                    case "EC PRIVATE KEY":
                        return FromEc(k => k.ImportECPrivateKey(der, out _));
                    case "RSA PRIVATE KEY":
                        return FromRsa(k => k.ImportRSAPrivateKey(der, out _));
                    case "PRIVATE KEY":
                        var alg = PrivateKeyInfo.GetInstance(der).PrivateKeyAlgorithm.Algorithm;
                        if (alg.Equals(X9ObjectIdentifiers.IdECPublicKey)) return FromEc(k => k.ImportPkcs8PrivateKey(der, out _));
                        if (alg.Equals(PkcsObjectIdentifiers.RsaEncryption)) return FromRsa(k => k.ImportPkcs8PrivateKey(der, out _));
                        throw new PkiException(PkiErrorCode.MalformedInput, $"unsupported private key algorithm {alg.Id}");
                }
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or InvalidOperationException)
        {
            throw new PkiException(PkiErrorCode.MalformedInput, $"error parsing private key: {e.Message}", e);
        }
        throw new PkiException(PkiErrorCode.MalformedInput, "error parsing private key: no EC, RSA or PKCS#8 private key PEM block found");
    }

    private static CaKeyPair FromEc(Action<ECDsa> import)
    {
        var k = ECDsa.Create();
        try
        {
            import(k);
            if (!EcBits.Contains(k.KeySize))
                throw new PkiException(PkiErrorCode.MalformedInput, $"unsupported EC key size {k.KeySize}");
            return new CaKeyPair(k);
        }
        catch { k.Dispose(); throw; }
    }

    private static CaKeyPair FromRsa(Action<RSA> import)
    {
        var k = RSA.Create();
        try
        {
            import(k);
            // Consul refuses to generate RSA keys under 2048 bits; an imported one is held to the same floor.
            if (k.KeySize < 2048)
                throw new PkiException(PkiErrorCode.MalformedInput, $"RSA key of {k.KeySize} bits is too small, need at least 2048");
            return new CaKeyPair(k);
        }
        catch { k.Dispose(); throw; }
    }

    /// <summary>The key as PEM, like Consul: <c>EC PRIVATE KEY</c> (SEC1, named curve) or <c>RSA PRIVATE KEY</c> (PKCS#1).</summary>
    public string ToPem() => (_key switch
    {
        ECDsa ec => ec.ExportECPrivateKeyPem(),
        RSA rsa => rsa.ExportRSAPrivateKeyPem(),
        _ => throw new InvalidOperationException(),
    }) + "\n";

    /// <summary>The public key as a <c>PUBLIC KEY</c> PEM.</summary>
    public string PublicKeyPem() => PemEncoding.WriteString("PUBLIC KEY", _publicKeyDer) + "\n";

    /// <summary>True when <paramref name="subjectPublicKeyInfoDer"/> is this key's public key.</summary>
    public bool MatchesPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfoDer) => subjectPublicKeyInfoDer.SequenceEqual(_publicKeyDer);

    /// <summary>A .NET copy of the private key for callers that need one (e.g. TLS); the caller owns it.</summary>
    public AsymmetricAlgorithm ExportToDotNet() => Clone();

    internal AlgorithmIdentifier SignatureAlgorithm { get; }

    internal ReadOnlySpan<byte> PublicKeyDerSpan => _publicKeyDer;

    /// <summary>Signs with the SPEC §3.3 algorithm for this key type: ECDSA-SHA256 (DER) or SHA256-RSA (PKCS#1 v1.5).</summary>
    internal byte[] Sign(ReadOnlySpan<byte> data) => _perThread.Value switch
    {
        ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
        RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new InvalidOperationException(),
    };

    private AsymmetricAlgorithm Clone()
    {
        // Per-thread copies: .NET documents no thread-safety for instance members, and a lock would
        // serialise every signature.
        lock (_key)
        {
            return _key switch
            {
                ECDsa ec => ECDsa.Create(ec.ExportParameters(true)),
                RSA rsa => RSA.Create(rsa.ExportParameters(true)),
                _ => throw new InvalidOperationException(),
            };
        }
    }

    internal static ECCurve CurveFor(int bits) => bits switch
    {
        224 => ECCurve.CreateFromValue("1.3.132.0.33"),
        256 => ECCurve.NamedCurves.nistP256,
        384 => ECCurve.NamedCurves.nistP384,
        521 => ECCurve.NamedCurves.nistP521,
        _ => throw new ArgumentOutOfRangeException(nameof(bits)),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var k in _perThread.Values) k.Dispose();
        _perThread.Dispose();
        _key.Dispose();
    }
}
