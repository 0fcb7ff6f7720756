using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;
using Meridian.Grains;
using Meridian.Pki;

namespace Meridian.Cli;

/// <summary>How one check of <c>meridian check</c> came out.</summary>
internal enum CheckOutcome
{
    Ok,
    Fail,
    /// <summary>Nothing to check here (e.g. replication in the primary, TLS without <c>--ca-file</c>).</summary>
    Skip,
}

/// <summary>One line of <c>meridian check</c>: the check, its outcome, what was seen and, when it failed, the fix.</summary>
internal sealed record CheckLine(string Check, [property: JsonIgnore] CheckOutcome Outcome, string Detail, string? Fix = null)
{
    /// <summary><c>ok</c>, <c>FAIL</c> or <c>skip</c>.</summary>
    public string Status => Outcome switch { CheckOutcome.Ok => "ok", CheckOutcome.Fail => "FAIL", _ => "skip" };
}

/// <summary>The bounds <c>meridian check</c> holds the datacenter to.</summary>
/// <param name="MinRootValidity">The active root must stay valid at least this long (default 60 days).</param>
/// <param name="MinSigningCaValidity">The certificate that signs leaves here must stay valid at least this long (default 30 days).</param>
/// <param name="MaxLag">
/// Replication lag as an index difference: the primary's index in its last answer minus the index applied here
/// (<see cref="ReplicationStatusDto.Lag"/>). An index, not a duration: a healthy replicator blocks on the primary
/// while nothing changes, so the time since its last round says nothing about being behind. Default 100.
/// </param>
/// <param name="MaxClockSkew">The connected datacenter's clock may differ from this machine's by this much, beyond the call's RTT (default 10 s).</param>
internal sealed record CheckThresholds(TimeSpan MinRootValidity, TimeSpan MinSigningCaValidity, ulong MaxLag, TimeSpan MaxClockSkew)
{
    public static CheckThresholds Default { get; } = new(TimeSpan.FromDays(60), TimeSpan.FromDays(30), 100, TimeSpan.FromSeconds(10));
}

/// <summary>This machine's clock just before the status call was sent and just after its answer arrived.</summary>
internal sealed record ClockSample(DateTimeOffset Sent, DateTimeOffset Received);

/// <summary>The transport TLS files the CLI was given, as text (null: the file was not given).</summary>
internal sealed record TlsFileContents(string CaPem, string? CertPem, string? KeyPem);

/// <summary>Everything <c>meridian check</c> decides on: the connected datacenter's answers, this machine's clock and the TLS files.</summary>
internal sealed record CheckInputs(
    DatacenterStatusDto Status,
    CaRootListDto Roots,
    DatacenterListDto? Datacenters,
    DateTimeOffset Now,
    ClockSample? Clock = null,
    TlsFileContents? Tls = null,
    CheckThresholds? Thresholds = null);

/// <summary>
/// The rules of <c>meridian check</c> (in the manner of <c>linkerd check</c>): pure, on the status DTOs and
/// <c>now</c>; one <see cref="CheckLine"/> per check, each failure with its fix. The command only gathers and prints.
/// </summary>
internal static class HealthCheckRules
{
    public const string ActiveRoot = "ca-active-root";
    public const string SigningCa = "ca-signing-ca";
    public const string IntermediateChain = "ca-intermediate-chains-to-root";
    public const string Role = "datacenter-role";
    public const string ClockSkew = "clock-skew";
    public const string Tls = "tls-files";
    public const string AclReplication = "acl-replication";

    public static IReadOnlyList<CheckLine> Evaluate(CheckInputs input)
    {
        var t = input.Thresholds ?? CheckThresholds.Default;
        var lines = new List<CheckLine>
        {
            CheckActiveRoot(input, t),
            CheckSigningCa(input, t),
            CheckIntermediate(input),
            CheckRole(input),
        };
        lines.AddRange(CheckReplication(input, t));
        lines.Add(CheckClock(input, t));
        lines.Add(CheckTls(input));
        return lines;
    }

    /// <summary>The exit code: 1 when any check failed, else 0.</summary>
    public static int ExitCode(IEnumerable<CheckLine> lines) => lines.Any(l => l.Outcome == CheckOutcome.Fail) ? ExitCodes.Failed : ExitCodes.Ok;

    private static CheckLine CheckActiveRoot(CheckInputs input, CheckThresholds t)
    {
        var active = input.Roots.Roots.FirstOrDefault(r => r.ID == input.Roots.ActiveRootID && r.ID.Length > 0);
        if (active is null)
            return new(ActiveRoot, CheckOutcome.Fail, $"no active root (CA state {input.Status.Ca.State})",
                "wait for the CA to initialise; `meridian status` shows CA state and why it is degraded");
        var left = active.NotAfter - input.Now;
        return left >= t.MinRootValidity
            ? new(ActiveRoot, CheckOutcome.Ok, $"active root {active.ID} valid for {Days(left)} (until {Output.Time(active.NotAfter)})")
            : new(ActiveRoot, CheckOutcome.Fail, $"active root {active.ID} {Expires(active.NotAfter, left)} (< {Days(t.MinRootValidity)})",
                "rotate the root in the primary: `meridian ca rotate` (cross-signed by the current one)");
    }

    private static CheckLine CheckSigningCa(CheckInputs input, CheckThresholds t)
    {
        var ca = input.Status.Ca;
        var kind = IsPrimary(input.Status) ? "the primary's root" : $"{input.Status.Datacenter}'s intermediate";
        if (ca.SigningCaExpiry is not { } expiry)
            return new(SigningCa, CheckOutcome.Fail, $"no signing CA (CA state {ca.State}{(ca.Degraded.Length > 0 ? $": {ca.Degraded}" : "")})",
                IsPrimary(input.Status) ? "wait for the CA to initialise; see `meridian status`"
                    : "the secondary needs an intermediate signed by the primary: check the link to the primary and `meridian status`");
        var left = expiry - input.Now;
        return left >= t.MinSigningCaValidity
            ? new(SigningCa, CheckOutcome.Ok, $"signing CA ({kind}) valid for {Days(left)} (until {Output.Time(expiry)})")
            : new(SigningCa, CheckOutcome.Fail, $"signing CA ({kind}) {Expires(expiry, left)} (< {Days(t.MinSigningCaValidity)})",
                IsPrimary(input.Status) ? "rotate the root in the primary: `meridian ca rotate`"
                    : "the intermediate is renewed from the primary: check the link to the primary, `meridian status` (CA degraded) and the silo log");
    }

    // The connected datacenter's signing certificate (the one whose key id the status names) must chain to the active
    // root it publishes. In the primary the root signs itself; there is nothing to chain.
    private static CheckLine CheckIntermediate(CheckInputs input)
    {
        var active = input.Roots.Roots.FirstOrDefault(r => r.ID == input.Roots.ActiveRootID && r.ID.Length > 0);
        if (active is null) return new(IntermediateChain, CheckOutcome.Skip, "no active root");
        if (IsPrimary(input.Status)) return new(IntermediateChain, CheckOutcome.Skip, $"{input.Status.Datacenter} is the primary: the root signs");
        var signingKeyId = input.Status.Ca.SigningKeyID;
        var signing = active.IntermediateCerts.FirstOrDefault(p => SubjectKeyId(p) is { } ski && string.Equals(ski, signingKeyId, StringComparison.OrdinalIgnoreCase));
        if (signing is null)
            return new(IntermediateChain, CheckOutcome.Fail,
                $"{input.Status.Datacenter}'s signing CA {(signingKeyId.Length == 0 ? "(none)" : signingKeyId)} is not among the intermediates of active root {active.ID}",
                "the secondary has not followed the primary's active root yet: `meridian replication status` (ca-roots) and `meridian status`");
        var verification = ChainVerifier.Verify(signing, [active.RootCert], input.Now, active.IntermediateCerts.Where(p => p != signing));
        return verification.IsValid
            ? new(IntermediateChain, CheckOutcome.Ok, $"{input.Status.Datacenter}'s intermediate {signingKeyId} chains to active root {active.ID}")
            : new(IntermediateChain, CheckOutcome.Fail, $"{input.Status.Datacenter}'s intermediate {signingKeyId} does not chain to active root {active.ID}: {verification.Error}",
                "the intermediate is re-signed when the secondary follows the primary's root: check `meridian replication status` (ca-roots) and the silo log");
    }

    private static CheckLine CheckRole(CheckInputs input)
    {
        var s = input.Status;
        var expected = s.Datacenter == s.PrimaryDatacenter ? "primary" : "secondary";
        if (!string.Equals(s.Role, expected, StringComparison.OrdinalIgnoreCase))
            return new(Role, CheckOutcome.Fail, $"{s.Datacenter} reports role {s.Role} but the primary is {s.PrimaryDatacenter}",
                "set the same primary datacenter in every datacenter's configuration and restart the mismatched one");
        var primaries = input.Datacenters?.Datacenters.Where(d => d.Primary).Select(d => d.Name).ToList() ?? [];
        if (input.Datacenters is not null && (primaries.Count != 1 || primaries[0] != s.PrimaryDatacenter))
            return new(Role, CheckOutcome.Fail,
                $"{s.Datacenter} follows primary {s.PrimaryDatacenter} but the federation lists {(primaries.Count == 0 ? "no primary" : string.Join(", ", primaries))}",
                "set the same primary datacenter in every datacenter's configuration; `meridian datacenters` lists the federation");
        return new(Role, CheckOutcome.Ok, $"{s.Datacenter} is {s.Role} (primary {s.PrimaryDatacenter})");
    }

    private static IEnumerable<CheckLine> CheckReplication(CheckInputs input, CheckThresholds t)
    {
        var statuses = input.Status.ReplicationStatuses();
        if (statuses.Count == 0)
        {
            yield return new("replication", CheckOutcome.Skip, $"{input.Status.Datacenter} is the primary: nothing is replicated into it");
            yield return new(AclReplication, CheckOutcome.Skip, $"{input.Status.Datacenter} is the primary");
            yield break;
        }
        foreach (var r in statuses) yield return Replication(r, t, r.ReplicationType == "acl" ? AclReplication : $"replication-{r.ReplicationType}");
        if (!statuses.Any(r => r.ReplicationType == "acl"))
            yield return new(AclReplication, CheckOutcome.Skip, "this datacenter reports no ACL replication");
    }

    private static CheckLine Replication(ReplicationStatusDto r, CheckThresholds t, string name)
    {
        if (r.Held is { } held)
            return new(name, CheckOutcome.Fail, $"{r.ReplicationType}: {held.Summary} since {Output.Time(held.Since)}",
                "review what it would change (`meridian replication status`), then `meridian replication adopt`");
        // ACL replication runs only where ACLs are enabled: off is not a failure (plain `meridian dev`).
        if (r.ReplicationType == "acl" && !r.Enabled)
            return new(name, CheckOutcome.Skip, "ACLs are not enabled in this datacenter");
        if (!r.Enabled || !r.Running)
            return new(name, CheckOutcome.Fail, $"{r.ReplicationType}: {(r.Enabled ? "enabled" : "not enabled")}, {(r.Running ? "running" : "not running")}",
                r.ReplicationType == "acl" ? "give the secondary a replication token (`meridian acl token create --replication` in the primary, set as Meridian:Acl:Tokens:Replication; the next round reads it, no restart needed)"
                    : "check the secondary's configuration (primary datacenter, link) and the silo log");
        if (r.LastSuccess == DateTimeOffset.MinValue || r.LastError > r.LastSuccess)
            return new(name, CheckOutcome.Fail,
                $"{r.ReplicationType}: {(r.LastSuccess == DateTimeOffset.MinValue ? "never succeeded" : "last round failed")}{(r.LastErrorMessage.Length > 0 ? $": {r.LastErrorMessage}" : "")}",
                "fix what the message names (link to the primary, replication token permissions); `meridian replication status` shows each round");
        if (r.Lag > t.MaxLag)
            return new(name, CheckOutcome.Fail, $"{r.ReplicationType}: {Index(r.Lag)} indexes behind {r.SourceDatacenter} (> {Index(t.MaxLag)})",
                "replication is falling behind: check the link to the primary (`meridian datacenters`) and the silo log");
        return new(name, CheckOutcome.Ok, $"{r.ReplicationType}: lag {Index(r.Lag)} (≤ {Index(t.MaxLag)}), last success {Output.Time(r.LastSuccess)}");
    }

    // No status carries the remote datacenter's clock directly. A secondary's replication status does: its last
    // success (stamped by its clock) plus the age it reported gives its "now" when it answered. That is compared with
    // this machine's clock during the call, the call's round trip being the tolerance (the answer was made somewhere
    // inside it).
    private static CheckLine CheckClock(CheckInputs input, CheckThresholds t)
    {
        if (input.Clock is not { } clock) return new(ClockSkew, CheckOutcome.Skip, "no clock sample");
        var stamped = input.Status.ReplicationStatuses().FirstOrDefault(r => r.LastSuccess != DateTimeOffset.MinValue && r.LastSuccessAge is not null);
        if (stamped is null)
            return new(ClockSkew, CheckOutcome.Skip, $"{input.Status.Datacenter}'s status carries no time (the primary, or nothing replicated yet)");
        var remoteNow = stamped.LastSuccess + stamped.LastSuccessAge!.Value;
        var rtt = clock.Received - clock.Sent;
        var skew = remoteNow < clock.Sent ? clock.Sent - remoteNow : remoteNow > clock.Received ? remoteNow - clock.Received : TimeSpan.Zero;
        var text = $"{input.Status.Datacenter}'s clock is {Output.Duration(Round(skew))} outside this machine's during the call (RTT {Output.Duration(Round(rtt))})";
        return skew <= t.MaxClockSkew
            ? new(ClockSkew, CheckOutcome.Ok, $"{text}, within {Output.Duration(t.MaxClockSkew)}")
            : new(ClockSkew, CheckOutcome.Fail, $"{text}, more than {Output.Duration(t.MaxClockSkew)}",
                "synchronise the clocks (NTP/chrony) of the datacenter's hosts and this machine: certificates' validity depends on them");
    }

    private static CheckLine CheckTls(CheckInputs input)
    {
        if (input.Tls is not { } tls) return new(Tls, CheckOutcome.Skip, "no --ca-file given (plain TCP to the gateway)");
        X509Certificate2? ca = null;
        try
        {
            try
            {
                ca = X509Certificate2.CreateFromPem(tls.CaPem);
            }
            catch (CryptographicException e)
            {
                return new(Tls, CheckOutcome.Fail, $"--ca-file does not hold a PEM certificate: {e.Message}", "pass the CA certificate PEM (`meridian tls ca create` writes one)");
            }
            if (ca.NotAfter.ToUniversalTime() < input.Now.UtcDateTime)
                return new(Tls, CheckOutcome.Fail, $"--ca-file expired {Output.Time(ca.NotAfter.ToUniversalTime())}", "create a new transport CA and re-issue the certificates (`meridian tls ca create`, `meridian tls cert create`)");
            if (tls.CertPem is null || tls.KeyPem is null)
                return new(Tls, CheckOutcome.Ok, $"--ca-file valid until {Output.Time(ca.NotAfter.ToUniversalTime())}");
            X509Certificate2 cert;
            try
            {
                cert = X509Certificate2.CreateFromPem(tls.CertPem, tls.KeyPem);
            }
            catch (CryptographicException e)
            {
                return new(Tls, CheckOutcome.Fail, $"--client-cert and --client-key do not load as a pair: {e.Message}",
                    "pass the key that belongs to the certificate (both PEM)");
            }
            using (cert)
            {
                var until = cert.NotAfter.ToUniversalTime();
                if (until < input.Now.UtcDateTime || cert.NotBefore.ToUniversalTime() > input.Now.UtcDateTime)
                    return new(Tls, CheckOutcome.Fail, $"--client-cert is not valid now (valid {Output.Time(cert.NotBefore.ToUniversalTime())} to {Output.Time(until)})",
                        "issue a new client certificate (`meridian tls cert create --client`)");
                var chain = ChainVerifier.Verify(tls.CertPem, [tls.CaPem], input.Now);
                if (!chain.IsValid)
                    return new(Tls, CheckOutcome.Fail, $"--client-cert does not chain to --ca-file: {chain.Error}",
                        "issue the client certificate from the CA in --ca-file, or pass that certificate's CA");
                return new(Tls, CheckOutcome.Ok, $"--ca-file and --client-cert valid, key matches, chains to the CA (certificate until {Output.Time(until)})");
            }
        }
        finally
        {
            ca?.Dispose();
        }
    }

    private static bool IsPrimary(DatacenterStatusDto s) => s.Datacenter == s.PrimaryDatacenter;

    private static string? SubjectKeyId(string pem)
    {
        try
        {
            return CertificateInfo.Parse(pem).SubjectKeyId;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string Days(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalDays):0} days");

    private static string Expires(DateTimeOffset at, TimeSpan left)
        => left < TimeSpan.Zero ? $"expired {Output.Time(at)}, {Days(-left)} ago" : $"expires {Output.Time(at)}, in {Days(left)}";

    private static string Index(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static TimeSpan Round(TimeSpan span) => TimeSpan.FromMilliseconds(Math.Round(span.TotalMilliseconds));
}
