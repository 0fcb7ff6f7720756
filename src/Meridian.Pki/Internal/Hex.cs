using System.Security.Cryptography;

namespace Meridian.Pki.Internal;

internal static class Hex
{
    /// <summary>Consul's <c>connect.HexString</c>: lower-case hex bytes joined by ':'.</summary>
    public static string Colon(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        const string digits = "0123456789abcdef";
        return string.Create(bytes.Length * 3 - 1, bytes.ToArray(), static (span, b) =>
        {
            for (int i = 0, j = 0; i < b.Length; i++)
            {
                if (i > 0) span[j++] = ':';
                span[j++] = digits[b[i] >> 4];
                span[j++] = digits[b[i] & 0xf];
            }
        });
    }

    /// <summary>Minimal big-endian bytes of a serial (Go's <c>big.Int.Bytes()</c>): 14 gives <c>0e</c>.</summary>
    public static byte[] SerialBytes(ulong serial)
    {
        Span<byte> buf = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(buf, serial);
        var start = 0;
        while (start < 7 && buf[start] == 0) start++;
        return buf[start..].ToArray();
    }

    /// <summary>Root ID (SPEC §3.6): SHA-1 of the certificate DER, colon hex, 59 characters.</summary>
    public static string RootId(ReadOnlySpan<byte> der) => Colon(SHA1.HashData(der));
}
