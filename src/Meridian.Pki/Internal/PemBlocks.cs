using System.Security.Cryptography;
using System.Text;

namespace Meridian.Pki.Internal;

internal static class PemBlocks
{
    /// <summary>Every PEM block in <paramref name="pem"/>, in order, with its label and DER body.</summary>
    public static IEnumerable<(string Label, byte[] Der)> Read(string pem)
    {
        var rest = pem.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var span = rest.Span;
            var label = span[fields.Label].ToString();
            var der = Convert.FromBase64String(span[fields.Base64Data].ToString());
            rest = rest[fields.Location.End..];
            yield return (label, der);
        }
    }

    public static string Certificate(ReadOnlySpan<byte> der)
    {
        var sb = new StringBuilder(der.Length * 4 / 3 + 80);
        sb.Append(PemEncoding.Write("CERTIFICATE", der)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The DER of every CERTIFICATE block; throws <see cref="PkiException"/> when there is none.</summary>
    public static List<byte[]> Certificates(string pem, string what = "certificate")
    {
        List<byte[]> list;
        try
        {
            list = Read(pem).Where(b => b.Label == "CERTIFICATE").Select(b => b.Der).ToList();
        }
        catch (FormatException e)
        {
            throw new PkiException(PkiErrorCode.MalformedInput, $"error parsing {what} PEM: {e.Message}", e);
        }
        if (list.Count == 0) throw new PkiException(PkiErrorCode.MalformedInput, $"error parsing {what} PEM: no CERTIFICATE block found");
        return list;
    }
}
