using Meridian.Grains;
using Meridian.Pki;

namespace Meridian.Cli.Tests;

/// <summary><see cref="HealthCheckRules"/>: one table row per situation, with real certificates where chains are judged.</summary>
[Trait("Category", "Unit")]
public sealed class HealthCheckRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // A root and a certificate it signed (standing for dc2's intermediate), and a stranger root with its own.
    private static readonly TransportKeyPair Root = TransportCertificates.CreateCa(Now.AddDays(-1), TimeSpan.FromDays(3650));
    private static readonly TransportKeyPair Intermediate = TransportCertificates.CreateClient(Root.CertificatePem, Root.PrivateKeyPem, "dc2", "consul", Now.AddDays(-1), TimeSpan.FromDays(365));
    private static readonly TransportKeyPair Stranger = TransportCertificates.CreateCa(Now.AddDays(-1), TimeSpan.FromDays(3650));
    private static readonly TransportKeyPair StrangerSigned = TransportCertificates.CreateClient(Stranger.CertificatePem, Stranger.PrivateKeyPem, "dc2", "consul", Now.AddDays(-1), TimeSpan.FromDays(365));

    private static string Ski(string pem) => CertificateInfo.Parse(pem).SubjectKeyId;

    private static CaRootListDto Roots(TimeSpan rootLeft, params string[] intermediates) => new()
    {
        ActiveRootID = "r1",
        Roots = [new CaRootDto { ID = "r1", Active = true, NotAfter = Now + rootLeft, RootCert = Root.CertificatePem, IntermediateCerts = [.. intermediates] }],
    };

    private static DatacenterStatusDto Primary(TimeSpan signingLeft) => new()
    {
        Datacenter = "dc1", PrimaryDatacenter = "dc1", Role = "primary",
        Ca = new CaStatusDto { State = "INITIALIZED", ActiveRootID = "r1", SigningCaExpiry = Now + signingLeft },
    };

    private static ReplicationStatusDto Replicating(string type, ulong lag = 0, DateTimeOffset? lastError = null, ReplicationHoldDto? held = null,
        bool running = true) => new()
    {
        ReplicationType = type, Enabled = true, Running = running, SourceDatacenter = "dc1", Lag = lag, PrimaryIndex = 40 + lag, ReplicatedIndex = 40,
        LastSuccess = Now.AddSeconds(-5), LastSuccessAge = TimeSpan.FromSeconds(5), LastError = lastError ?? DateTimeOffset.MinValue,
        LastErrorMessage = lastError is null ? "" : "ACL not found", Held = held,
    };

    private static DatacenterStatusDto Secondary(string signingKeyId, params ReplicationStatusDto[] replication) => new()
    {
        Datacenter = "dc2", PrimaryDatacenter = "dc1", Role = "secondary",
        Ca = new CaStatusDto { State = "INITIALIZED", ActiveRootID = "r1", SigningCaExpiry = Now.AddDays(300), SigningKeyID = signingKeyId },
        Replication = [.. replication],
    };

    private static readonly DatacenterListDto TwoDatacenters = new()
    {
        Datacenters = [new DatacenterInfoDto { Name = "dc1", Primary = true }, new DatacenterInfoDto { Name = "dc2" }],
    };

    private static ReplicationStatusDto[] HealthyReplication => [Replicating("intentions"), Replicating("acl"), Replicating("ca-roots")];

    private static CheckInputs HealthySecondary => new(Secondary(Ski(Intermediate.CertificatePem), HealthyReplication),
        Roots(TimeSpan.FromDays(3000), Intermediate.CertificatePem), TwoDatacenters, Now, new ClockSample(Now.AddMilliseconds(-20), Now));

    // Keyed by situation (the types are internal to the CLI; the theory passes the key).
    private static readonly RowTable Table = new()
    {
        { "root 61 days", new(Primary(TimeSpan.FromDays(61)), Roots(TimeSpan.FromDays(61)), null, Now), HealthCheckRules.ActiveRoot, CheckOutcome.Ok, "valid for 61 days" },
        { "root 59 days", new(Primary(TimeSpan.FromDays(59)), Roots(TimeSpan.FromDays(59)), null, Now), HealthCheckRules.ActiveRoot, CheckOutcome.Fail, "meridian ca rotate" },
        { "root expired", new(Primary(TimeSpan.FromDays(61)), Roots(TimeSpan.FromDays(-2)), null, Now), HealthCheckRules.ActiveRoot, CheckOutcome.Fail, "2 days ago" },
        { "no active root", new(Primary(TimeSpan.FromDays(61)), new CaRootListDto(), null, Now), HealthCheckRules.ActiveRoot, CheckOutcome.Fail, "no active root" },
        { "signing 31 days", new(Primary(TimeSpan.FromDays(31)), Roots(TimeSpan.FromDays(400)), null, Now), HealthCheckRules.SigningCa, CheckOutcome.Ok, "the primary's root" },
        { "signing 29 days", new(Primary(TimeSpan.FromDays(29)), Roots(TimeSpan.FromDays(400)), null, Now), HealthCheckRules.SigningCa, CheckOutcome.Fail, "< 30 days" },
        { "secondary signing 29 days", HealthySecondary with { Status = Secondary("x") with { Ca = new CaStatusDto { SigningCaExpiry = Now.AddDays(29) } } },
            HealthCheckRules.SigningCa, CheckOutcome.Fail, "renewed from the primary" },
        { "primary: nothing to chain", new(Primary(TimeSpan.FromDays(400)), Roots(TimeSpan.FromDays(400)), null, Now), HealthCheckRules.IntermediateChain, CheckOutcome.Skip, "the root signs" },
        { "intermediate chains", HealthySecondary, HealthCheckRules.IntermediateChain, CheckOutcome.Ok, "chains to active root r1" },
        { "intermediate of another root", HealthySecondary with
            {
                Status = Secondary(Ski(StrangerSigned.CertificatePem), HealthyReplication), Roots = Roots(TimeSpan.FromDays(3000), StrangerSigned.CertificatePem),
            }, HealthCheckRules.IntermediateChain, CheckOutcome.Fail, "does not chain" },
        { "intermediate not published", HealthySecondary with { Status = Secondary("aa:bb", HealthyReplication) },
            HealthCheckRules.IntermediateChain, CheckOutcome.Fail, "not among the intermediates" },
        { "role agrees", HealthySecondary, HealthCheckRules.Role, CheckOutcome.Ok, "dc2 is secondary (primary dc1)" },
        { "role mismatch", HealthySecondary with { Status = Secondary("x") with { Role = "primary" } }, HealthCheckRules.Role, CheckOutcome.Fail, "reports role primary" },
        { "federation names another primary", HealthySecondary with
            {
                Datacenters = new() { Datacenters = [new DatacenterInfoDto { Name = "dc3", Primary = true }] },
            }, HealthCheckRules.Role, CheckOutcome.Fail, "lists dc3" },
        { "acl replication healthy", HealthySecondary, HealthCheckRules.AclReplication, CheckOutcome.Ok, "lag 0" },
        { "acl replication failing", HealthySecondary with { Status = Secondary("x", Replicating("acl", lastError: Now.AddSeconds(-1))) },
            HealthCheckRules.AclReplication, CheckOutcome.Fail, "last round failed: ACL not found" },
        { "acl replication recovered", HealthySecondary with { Status = Secondary("x", Replicating("acl", lastError: Now.AddMinutes(-1))) },
            HealthCheckRules.AclReplication, CheckOutcome.Ok, "lag 0" },
        { "acl replication not running", HealthySecondary with { Status = Secondary("x", Replicating("acl", running: false)) },
            HealthCheckRules.AclReplication, CheckOutcome.Fail, "acl token create --replication" },
        { "acl replication with ACLs off", HealthySecondary with { Status = Secondary("x", Replicating("acl", running: false) with { Enabled = false }) },
            HealthCheckRules.AclReplication, CheckOutcome.Skip, "not enabled" },
        { "primary: no acl replication", new(Primary(TimeSpan.FromDays(400)), Roots(TimeSpan.FromDays(400)), null, Now), HealthCheckRules.AclReplication, CheckOutcome.Skip, "primary" },
        { "lag at the bound", HealthySecondary with { Status = Secondary("x", Replicating("intentions", lag: 100)) }, "replication-intentions", CheckOutcome.Ok, "lag 100" },
        { "lag beyond the bound", HealthySecondary with { Status = Secondary("x", Replicating("intentions", lag: 101)) }, "replication-intentions", CheckOutcome.Fail, "101 indexes behind dc1" },
        { "lag beyond --max-lag 5", HealthySecondary with
            {
                Status = Secondary("x", Replicating("intentions", lag: 6)), Thresholds = CheckThresholds.Default with { MaxLag = 5 },
            }, "replication-intentions", CheckOutcome.Fail, "(> 5)" },
        { "held", HealthySecondary with
            {
                Status = Secondary("x", Replicating("intentions", held: new ReplicationHoldDto { Summary = "held: primary replaced (epoch a→b)", Since = Now })),
            }, "replication-intentions", CheckOutcome.Fail, "meridian replication adopt" },
        { "clock in step", HealthySecondary, HealthCheckRules.ClockSkew, CheckOutcome.Ok, "0s outside" },
        { "clock 30 s ahead", HealthySecondary with { Clock = new ClockSample(Now.AddSeconds(-30).AddMilliseconds(-20), Now.AddSeconds(-30)) },
            HealthCheckRules.ClockSkew, CheckOutcome.Fail, "30s outside" },
        { "clock 9 s behind, slow call", HealthySecondary with { Clock = new ClockSample(Now.AddSeconds(9), Now.AddSeconds(10)) },
            HealthCheckRules.ClockSkew, CheckOutcome.Ok, "9s outside" },
        { "primary: no remote time", new(Primary(TimeSpan.FromDays(400)), Roots(TimeSpan.FromDays(400)), null, Now, new ClockSample(Now, Now)),
            HealthCheckRules.ClockSkew, CheckOutcome.Skip, "carries no time" },
        { "no tls files", HealthySecondary, HealthCheckRules.Tls, CheckOutcome.Skip, "no --ca-file" },
        { "tls ca only", HealthySecondary with { Tls = new(Root.CertificatePem, null, null) }, HealthCheckRules.Tls, CheckOutcome.Ok, "--ca-file valid" },
        { "tls pair chains", HealthySecondary with { Tls = new(Root.CertificatePem, Intermediate.CertificatePem, Intermediate.PrivateKeyPem) },
            HealthCheckRules.Tls, CheckOutcome.Ok, "key matches" },
        { "tls key of another cert", HealthySecondary with { Tls = new(Root.CertificatePem, Intermediate.CertificatePem, StrangerSigned.PrivateKeyPem) },
            HealthCheckRules.Tls, CheckOutcome.Fail, "do not load as a pair" },
        { "tls cert of another CA", HealthySecondary with { Tls = new(Root.CertificatePem, StrangerSigned.CertificatePem, StrangerSigned.PrivateKeyPem) },
            HealthCheckRules.Tls, CheckOutcome.Fail, "does not chain to --ca-file" },
        { "tls cert expired", HealthySecondary with { Now = Now.AddDays(400), Tls = new(Root.CertificatePem, Intermediate.CertificatePem, Intermediate.PrivateKeyPem) },
            HealthCheckRules.Tls, CheckOutcome.Fail, "is not valid now" },
        { "tls ca not pem", HealthySecondary with { Tls = new("not a certificate", null, null) }, HealthCheckRules.Tls, CheckOutcome.Fail, "does not hold a PEM certificate" },
    };

    public static TheoryData<string> Rows => [.. Table.Keys];

    private sealed class RowTable : Dictionary<string, (CheckInputs Input, string Check, CheckOutcome Outcome, string Text)>
    {
        public void Add(string situation, CheckInputs input, string check, CheckOutcome outcome, string text) => Add(situation, (input, check, outcome, text));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Evaluate_OneLinePerCheck(string situation)
    {
        var (input, check, outcome, text) = Table[situation];
        var lines = HealthCheckRules.Evaluate(input);
        var line = lines.Single(l => l.Check == check);
        Assert.True(line.Outcome == outcome, $"{situation}: {line}");
        Assert.Contains(text, line.Detail + " " + line.Fix, StringComparison.Ordinal);
        // Every failure says how to fix it; nothing else does.
        Assert.Equal(line.Outcome == CheckOutcome.Fail, line.Fix is not null);
        Assert.Equal(lines.Any(l => l.Outcome == CheckOutcome.Fail) ? ExitCodes.Failed : ExitCodes.Ok, HealthCheckRules.ExitCode(lines));
    }

    [Fact]
    public void HealthySecondary_EveryCheckOk_ExitZero()
    {
        var lines = HealthCheckRules.Evaluate(HealthySecondary with { Tls = new(Root.CertificatePem, null, null) });
        Assert.All(lines, l => Assert.True(l.Outcome == CheckOutcome.Ok, l.ToString()));
        Assert.Equal(
            [HealthCheckRules.ActiveRoot, HealthCheckRules.SigningCa, HealthCheckRules.IntermediateChain, HealthCheckRules.Role,
                "replication-intentions", HealthCheckRules.AclReplication, "replication-ca-roots", HealthCheckRules.ClockSkew, HealthCheckRules.Tls],
            lines.Select(l => l.Check));
        Assert.Equal(ExitCodes.Ok, HealthCheckRules.ExitCode(lines));
    }
}
