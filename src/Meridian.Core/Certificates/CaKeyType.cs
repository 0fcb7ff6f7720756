namespace Meridian.Core.Certificates;

/// <summary>CA private key algorithm, as Consul's <c>PrivateKeyType</c> (<c>ec</c> or <c>rsa</c>).</summary>
public enum CaKeyType
{
    /// <summary>NIST P-curve ECDSA key (<c>ec</c>); bits 224, 256, 384 or 521.</summary>
    Ec,
    /// <summary>RSA key (<c>rsa</c>); bits 2048 or 4096.</summary>
    Rsa,
}

/// <summary>A key type and size, e.g. <c>ec</c>/256.</summary>
public readonly record struct CaKeySpec(CaKeyType Type, int Bits)
{
    /// <summary>Consul's default: EC P-256.</summary>
    public static CaKeySpec Default => new(CaKeyType.Ec, 256);

    /// <summary>Consul's wire text of the type: <c>ec</c> or <c>rsa</c>.</summary>
    public string TypeName => Type == CaKeyType.Ec ? "ec" : "rsa";

    /// <inheritdoc />
    public override string ToString() => $"{TypeName}/{Bits}";
}

/// <summary>Consul's wire text for <see cref="CaKeyType"/> and the key sizes each type allows.</summary>
public static class CaKeyTypes
{
    /// <summary>EC sizes Consul accepts: the NIST P-224, P-256, P-384 and P-521 curves.</summary>
    public static IReadOnlyList<int> EcBits { get; } = [224, 256, 384, 521];

    /// <summary>RSA sizes Consul accepts.</summary>
    public static IReadOnlyList<int> RsaBits { get; } = [2048, 4096];

    /// <summary>Parses <c>ec</c> or <c>rsa</c> (exact, lower case, as Consul); false otherwise.</summary>
    public static bool TryParse(string? text, out CaKeyType type)
    {
        (var ok, type) = text switch
        {
            "ec" => (true, CaKeyType.Ec),
            "rsa" => (true, CaKeyType.Rsa),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>The wire text, <c>ec</c> or <c>rsa</c>.</summary>
    public static string ToWireName(this CaKeyType type) => type switch
    {
        CaKeyType.Ec => "ec",
        CaKeyType.Rsa => "rsa",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown key type."),
    };

    /// <summary>True when <paramref name="bits"/> is allowed for <paramref name="type"/>.</summary>
    public static bool IsSupportedSize(CaKeyType type, int bits) => type switch
    {
        CaKeyType.Ec => EcBits.Contains(bits),
        CaKeyType.Rsa => RsaBits.Contains(bits),
        _ => false,
    };
}
