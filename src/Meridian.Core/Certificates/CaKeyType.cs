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
