namespace Meridian.Proxy;

/// <summary>
/// Log event ids of the connect proxy: range 8000-8019, reserved in <c>grains/Meridian.Grains/MeridianEventIds.cs</c>
/// (this project talks to Meridian only through the SDK, so it keeps its ids here, in the same pattern).
/// </summary>
public static class ProxyEventIds
{
    public const int Ready = 8000;
    public const int CertificateIssued = 8001;
    public const int RootsChanged = 8002;
    public const int CertificateRenewalFailed = 8003;
    public const int InboundRefused = 8004;
    public const int UpstreamRefused = 8005;
    public const int UpstreamDialFailed = 8006;
    public const int UpstreamNoEndpoints = 8007;
    public const int Registered = 8008;
    public const int Deregistered = 8009;
    public const int HeartbeatFailed = 8010;
    public const int Draining = 8011;
    public const int DrainTimedOut = 8012;
    public const int LocalAppUnreachable = 8013;
    public const int ConnectionFailed = 8015;
}
