using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Meridian.Pki.Internal;

/// <summary>
/// P-256 key generation straight through the system's OpenSSL (libcrypto), the library .NET itself uses on Linux.
/// <para>
/// Why: <c>ECDsa.Create(nistP256)</c> on Linux runs <c>EC_KEY_generate_key</c> and then <c>EC_KEY_check_key</c> on
/// the key it just made (dotnet/runtime pal_eckey.c), and the check costs two more scalar multiplications, one of them
/// variable-base: measured here, .NET generates and exports 18-20k keys/s on 2 cores, this 41-42k/s. OpenSSL's own
/// <c>genpkey</c>, Go and BoringSSL do not re-check a key they generated either.
/// </para>
/// <para>
/// Only the five long-stable OpenSSL 1.1/3 functions below are called. On any other platform, when libcrypto or one of
/// the functions is missing, or when the start-up self-test disagrees with .NET's own encoders, <see cref="IsAvailable"/>
/// is false and <see cref="LeafKey.CreateP256"/> uses .NET. <c>MERIDIAN_LEAF_KEYGEN=dotnet</c> forces .NET.
/// </para>
/// </summary>
internal static unsafe class OpenSslP256
{
    /// <summary>The environment variable that forces .NET key generation (value <c>dotnet</c>).</summary>
    public const string Switch = "MERIDIAN_LEAF_KEYGEN";

    private const int NidPrime256V1 = 415; // NID_X9_62_prime256v1, fixed since OpenSSL 0.9.8

    private static readonly (Functions? Api, string? Library) Loaded = Load();
    private static readonly Functions? Api = Loaded.Api;

    /// <summary>True when keys are generated through libcrypto directly.</summary>
    public static bool IsAvailable => Api is not null;

    /// <summary>Where leaf keys come from, for a start-up log line and <c>meridian status</c>-like diagnostics.</summary>
    public static string Description => Api is null
        ? ".NET ECDsa"
        : $"OpenSSL {Loaded.Library} (EC_KEY_generate_key, without .NET's extra EC_KEY_check_key)";

    /// <summary>
    /// Generates a key and returns its DER SubjectPublicKeyInfo and DER SEC1 ECPrivateKey (named curve, with the public
    /// key): byte for byte what .NET's <c>ExportSubjectPublicKeyInfo</c>/<c>ExportECPrivateKey</c> write. The caller
    /// zeroes the private bytes when done. Throws <see cref="InvalidOperationException"/> when not available.
    /// </summary>
    public static (byte[] SubjectPublicKeyInfo, byte[] EcPrivateKey) Generate()
        => Generate(Api ?? throw new InvalidOperationException("OpenSSL key generation is not available here."));

    private static (byte[], byte[]) Generate(Functions api)
    {
        var key = api.NewByCurveName(NidPrime256V1);
        if (key == 0) throw Failure(api, "EC_KEY_new_by_curve_name");
        try
        {
            if (api.GenerateKey(key) != 1) throw Failure(api, "EC_KEY_generate_key");
            var spki = Encode(api, key, api.PublicKeyToDer, "i2d_EC_PUBKEY");
            var sec1 = Encode(api, key, api.PrivateKeyToDer, "i2d_ECPrivateKey");
            return (spki, sec1);
        }
        finally
        {
            api.Free(key); // EC_KEY_free clears the private scalar
        }
    }

    private static byte[] Encode(Functions api, nint key, delegate* unmanaged<nint, byte**, int> i2d, string name)
    {
        var length = i2d(key, null);
        if (length <= 0) throw Failure(api, name);
        var der = new byte[length];
        fixed (byte* start = der)
        {
            var cursor = start; // i2d writes at *cursor and advances it
            if (i2d(key, &cursor) == length && cursor == start + length) return der;
        }
        CryptographicOperations.ZeroMemory(der); // may hold part of the private key
        throw Failure(api, name);
    }

    private static CryptographicException Failure(Functions api, string function)
    {
        api.ClearErrors(); // leave OpenSSL's per-thread error queue clean for .NET's next call
        return new CryptographicException($"OpenSSL {function} failed while generating a P-256 leaf key.");
    }

    private static (Functions?, string?) Load()
    {
        if (!OperatingSystem.IsLinux()) return (null, null);
        if (string.Equals(Environment.GetEnvironmentVariable(Switch), "dotnet", StringComparison.OrdinalIgnoreCase)) return (null, null);
        foreach (var name in (string[])["libcrypto.so.3", "libcrypto.so.1.1"])
        {
            if (NativeLibrary.TryLoad(name, out var handle) && Bind(handle) is { } api && SelfTest(api)) return (api, name);
        }
        return (null, null);
    }

    private static Functions? Bind(nint lib)
    {
        if (!NativeLibrary.TryGetExport(lib, "EC_KEY_new_by_curve_name", out var newKey)
            || !NativeLibrary.TryGetExport(lib, "EC_KEY_generate_key", out var generate)
            || !NativeLibrary.TryGetExport(lib, "EC_KEY_free", out var free)
            || !NativeLibrary.TryGetExport(lib, "i2d_EC_PUBKEY", out var publicDer)
            || !NativeLibrary.TryGetExport(lib, "i2d_ECPrivateKey", out var privateDer)
            || !NativeLibrary.TryGetExport(lib, "ERR_clear_error", out var clear))
            return null;
        return new Functions
        {
            NewByCurveName = (delegate* unmanaged<int, nint>)newKey,
            GenerateKey = (delegate* unmanaged<nint, int>)generate,
            Free = (delegate* unmanaged<nint, void>)free,
            PublicKeyToDer = (delegate* unmanaged<nint, byte**, int>)publicDer,
            PrivateKeyToDer = (delegate* unmanaged<nint, byte**, int>)privateDer,
            ClearErrors = (delegate* unmanaged<void>)clear,
        };
    }

    // One key, read back by .NET: both encodings must round-trip byte for byte and the pair must sign and verify.
    private static bool SelfTest(Functions api)
    {
        byte[]? sec1 = null;
        try
        {
            (var spki, sec1) = Generate(api);
            using var key = ECDsa.Create();
            key.ImportECPrivateKey(sec1, out var read);
            if (read != sec1.Length || key.KeySize != 256) return false;
            var again = key.ExportECPrivateKey();
            var same = again.AsSpan().SequenceEqual(sec1) && key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(spki);
            CryptographicOperations.ZeroMemory(again);
            if (!same) return false;
            using var verifier = ECDsa.Create();
            verifier.ImportSubjectPublicKeyInfo(spki, out _);
            var data = "meridian leaf key self-test"u8;
            return verifier.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256);
        }
        catch (Exception e) when (e is CryptographicException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (sec1 is not null) CryptographicOperations.ZeroMemory(sec1);
        }
    }

    private sealed class Functions
    {
        public required delegate* unmanaged<int, nint> NewByCurveName { get; init; }
        public required delegate* unmanaged<nint, int> GenerateKey { get; init; }
        public required delegate* unmanaged<nint, void> Free { get; init; }
        public required delegate* unmanaged<nint, byte**, int> PublicKeyToDer { get; init; }
        public required delegate* unmanaged<nint, byte**, int> PrivateKeyToDer { get; init; }
        public required delegate* unmanaged<void> ClearErrors { get; init; }
    }
}
