using System.Text;

namespace Meridian.Core.Validation;

/// <summary>
/// Size caps on what a caller may send, so that bad or hostile input is refused before it costs parsing, signing or
/// storage (issue 12 §5). Each check names the field and the cap; a value over the cap is never quoted back (a
/// megabyte of text in an error message would cost what the cap saves).
/// </summary>
public static class InputLimits
{
    /// <summary>
    /// Largest CSR accepted, in UTF-8 bytes of its PEM text: 16 KiB. An RSA-4096 CSR with a SPIFFE URI is under 2 KiB;
    /// the margin covers extensions without letting a caller make the parser chew on megabytes.
    /// </summary>
    public const int MaxCsrPemBytes = 16 * 1024;

    /// <summary>Most names in one match or check request (Consul has no cap; one request must not scan unboundedly).</summary>
    public const int MaxNamesPerRequest = 256;

    /// <summary>Most permissions on one source (each is matched per request on the L7 path).</summary>
    public const int MaxPermissionsPerSource = 256;

    /// <summary>Most header matches in one permission.</summary>
    public const int MaxHeadersPerPermission = 64;

    /// <summary>Most sources in one destination's entry: every authorize for the destination walks them.</summary>
    public const int MaxSourcesPerEntry = 10_000;

    /// <summary>
    /// Most long-polls one client may have waiting at once in one silo (Consul caps a client at 200 concurrent HTTP
    /// connections, <c>limits.http_max_conns_per_client</c>; a blocking query holds one each). A long-poll holds memory
    /// in the silo for up to ten minutes: without a cap one client could hold any number.
    /// </summary>
    public const int MaxLongPollsPerCaller = 200;

    /// <summary>
    /// Longest grain key accepted by a key rule before it is parsed: the longest valid key is a datacenter, a
    /// separator and a service name (64 + 1 + 128).
    /// </summary>
    public const int MaxGrainKeyLength = 256;

    /// <summary>The problem when <paramref name="value"/> is longer than <paramref name="maxBytes"/> UTF-8 bytes, else null.</summary>
    public static ValidationProblem? CheckBytes(string field, string? value, int maxBytes)
    {
        if (value is null || value.Length <= maxBytes / 3) return null; // at most 3 bytes per UTF-16 unit: cheap early out
        var bytes = Encoding.UTF8.GetByteCount(value);
        return bytes <= maxBytes ? null
            : new(field, ValidationCodes.TooLong, $"{field} is {bytes} bytes; at most {maxBytes} are accepted");
    }

    /// <summary>The problem when <paramref name="count"/> exceeds <paramref name="max"/>, else null.</summary>
    public static ValidationProblem? CheckCount(string field, int count, int max)
        => count <= max ? null : new(field, ValidationCodes.TooMany, $"{field} has {count} elements; at most {max} are accepted");
}
