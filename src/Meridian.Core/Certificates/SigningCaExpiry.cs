namespace Meridian.Core.Certificates;

/// <summary>Which certificate signs leaves in a datacenter: the root (primary) or an intermediate (secondary).</summary>
public enum SigningCaKind
{
    /// <summary>The primary signs with its self-signed root; only a root rotation replaces it.</summary>
    Root,
    /// <summary>A secondary signs with an intermediate from the primary, renewed at half-life (Consul's half-life renewal).</summary>
    Intermediate,
}

/// <summary>
/// When an operator must hear that the leaf-signing CA is running out (SPEC §5 items 6 and 12: Consul let intermediates
/// and stuck secondaries expire silently). An intermediate renews at half-life, so one still in place at 60 % of its
/// lifetime (half-life + 10 % slack, about 36 days for the default 8760 h) means renewal keeps failing. A root is only
/// replaced by a rotation, so it alarms in the last 10 % of its life (one year of the default ten).
/// </summary>
public static class SigningCaExpiry
{
    /// <summary>Fraction of an intermediate's lifetime after which it should long have been renewed: 0.6.</summary>
    public const double IntermediateAlarmFraction = 0.6;

    /// <summary>Fraction of a root's lifetime after which it needs a rotation: 0.9.</summary>
    public const double RootAlarmFraction = 0.9;

    /// <summary>The instant after which <see cref="Problem"/> reports the certificate.</summary>
    public static DateTimeOffset AlarmAt(DateTimeOffset notBefore, DateTimeOffset notAfter, SigningCaKind kind)
    {
        var fraction = kind == SigningCaKind.Intermediate ? IntermediateAlarmFraction : RootAlarmFraction;
        return notBefore + TimeSpan.FromTicks((long)((notAfter - notBefore).Ticks * fraction));
    }

    /// <summary>Why the signing CA valid from <paramref name="notBefore"/> to <paramref name="notAfter"/> is a problem at <paramref name="now"/>; empty when it is not.</summary>
    public static string Problem(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter, SigningCaKind kind)
    {
        var name = kind == SigningCaKind.Intermediate ? "signing intermediate CA certificate" : "signing root CA certificate";
        if (now >= notAfter) return $"{name} expired at {notAfter:O}: new leaf certificates will not verify";
        if (now <= AlarmAt(notBefore, notAfter, kind)) return "";
        return kind == SigningCaKind.Intermediate
            ? $"{name} expires at {notAfter:O} and was not renewed at half-life ({IntermediateRenewal.RenewAt(notBefore, notAfter):O}): renewal from the primary datacenter is failing"
            : $"{name} expires at {notAfter:O}, within the last 10% of its lifetime: rotate the root";
    }
}
