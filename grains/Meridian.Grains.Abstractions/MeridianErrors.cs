using System.Text.RegularExpressions;
using Orleans.Runtime.Messaging;

namespace Meridian.Grains;

/// <summary>
/// The one rule for exceptions that are not <see cref="MeridianException"/>s when they leave a Meridian grain (the
/// silo's call filter) or reach the SDK: they become a <see cref="MeridianException"/> with a <see cref="MeridianErrorKind"/>
/// and a one-line message that names the operation and the original type.
/// </summary>
/// <remarks>
/// NOTE: an exception type without an Orleans codec (a Newtonsoft or Npgsql exception, any type outside System.* not
/// marked [GenerateSerializer]) cannot cross the wire: the caller got "Could not find a codec for type …" instead of
/// the error (issue 11, a storage failure in <c>meridian dev</c>). The original is never attached as the inner
/// exception for the same reason; the silo logs it whole.
/// </remarks>
public static partial class MeridianErrors
{
    private const int MaxMessageLength = 1000;

    /// <summary>
    /// True for the failures of the call itself rather than of the grain: the target silo or gateway could not be
    /// reached or did not answer in time.
    /// </summary>
    public static bool IsTransport(Exception exception) =>
        exception is TimeoutException or SiloUnavailableException or ConnectionFailedException or GatewayTooBusyException
            or OrleansMessageRejectionException;

    /// <summary>
    /// True for an error that <see cref="Translate"/> made from a transport failure inside the datacenter (a grain that
    /// served the call could not reach a silo it needed, e.g. one that was just killed): worth retrying, unlike other
    /// errors of kind <see cref="MeridianErrorKind.Unavailable"/> (another datacenter down, a CA key that cannot be opened).
    /// </summary>
    public static bool IsTranslatedTransport(Exception exception) =>
        exception is MeridianException { Kind: MeridianErrorKind.Unavailable } e && e.GetType() == typeof(MeridianException)
        && TransportTypeNames.Any(t => e.Message.Contains($" failed ({t}): ", StringComparison.Ordinal));

    private static readonly string[] TransportTypeNames =
    [
        nameof(TimeoutException), nameof(SiloUnavailableException), nameof(ConnectionFailedException),
        nameof(GatewayTooBusyException), nameof(OrleansMessageRejectionException),
    ];

    /// <summary>
    /// The <see cref="MeridianException"/> to throw instead of <paramref name="exception"/>, or null to let it through
    /// (already a Meridian error, or a cancellation the caller asked for). Transport failures become
    /// <see cref="MeridianErrorKind.Unavailable"/>, everything else <see cref="MeridianErrorKind.Internal"/>.
    /// </summary>
    public static MeridianException? Translate(Exception exception, string operation)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is MeridianException or OperationCanceledException) return null;
        var kind = IsTransport(exception) ? MeridianErrorKind.Unavailable : MeridianErrorKind.Internal;
        return new MeridianException($"{operation} failed ({exception.GetType().Name}): {Clean(exception.Message)}", kind);
    }

    // One line (the CLI prints one line per error), bounded, and without anything that looks like a secret: a private
    // key PEM or a connection-string password could in principle be quoted by a provider's message.
    private static string Clean(string message)
    {
        var text = PrivateKeyPem().Replace(message, "[private key redacted]");
        text = Password().Replace(text, "$1=[redacted]");
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= MaxMessageLength ? text : text[..MaxMessageLength] + "…";
    }

    [GeneratedRegex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", RegexOptions.Singleline)]
    private static partial Regex PrivateKeyPem();

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;\s]*")]
    private static partial Regex Password();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
