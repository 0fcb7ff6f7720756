using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Meridian.Grains.Diagnostics;

/// <summary>One metric: what docs/metrics.md lists (generated from these by <c>MetricsDocsTests</c>).</summary>
/// <param name="Name">OpenTelemetry name, <c>meridian.&lt;area&gt;.&lt;name&gt;</c>.</param>
/// <param name="Kind"><c>counter</c>, <c>histogram</c> or <c>gauge</c>.</param>
/// <param name="Unit">UCUM unit as OpenTelemetry takes it (<c>s</c>, <c>1</c>, <c>{decision}</c>).</param>
/// <param name="Labels">The tags every measurement carries, in order.</param>
/// <param name="Meaning">What it counts or shows, and when to worry.</param>
/// <param name="Consul">The Consul metric with that meaning, or why there is none.</param>
public sealed record MetricInfo(string Name, string Kind, string Unit, string[] Labels, string Meaning, string Consul)
{
    /// <summary>
    /// The name Prometheus sees from the OpenTelemetry exporter's default translation: dots to underscores, the unit as
    /// a suffix (<c>s</c> → <c>_seconds</c>; <c>1</c> and <c>{…}</c> add none), and <c>_total</c> on a counter
    /// (a histogram's series add <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).
    /// </summary>
    public string PrometheusName
    {
        get
        {
            var name = Name.Replace('.', '_').Replace('-', '_');
            name += Unit switch { "s" => "_seconds", "ms" => "_milliseconds", "By" => "_bytes", _ => "" };
            return Kind == "counter" ? name + "_total" : name;
        }
    }
}

/// <summary>
/// Every Meridian metric, on one <see cref="Meter"/> named <see cref="MeterName"/>: instruments are created once per
/// silo (a DI singleton, the shape of Orleans' <c>DurableJobsInstruments</c>) and grains and services report through
/// the <c>On…</c>/<c>Set…</c> methods. Counters and histograms cost an <c>Add</c>/<c>Record</c> with a stack
/// <see cref="System.Diagnostics.TagList"/> (nothing when no exporter listens: <c>Meridian:Metrics:Enabled=false</c>); gauges are observed
/// only at a scrape, from values the reporters stored when something changed (a replication round, a new signer), so a
/// scrape never calls a grain. Names follow OpenTelemetry (<c>meridian.&lt;area&gt;.&lt;name&gt;</c> with a unit), meanings
/// follow Consul's telemetry (https://developer.hashicorp.com/consul/docs/reference/agent/telemetry). Labels never
/// carry a token, a key or a certificate: datacenter and type names and fixed result words only.
/// To add a metric: a <see cref="MetricInfo"/> field, its instrument below, a reporting method; docs/metrics.md then
/// fails <c>MetricsDocsTests</c> until its generated table is pasted in.
/// </summary>
public sealed class MeridianInstruments : IDisposable
{
    /// <summary>The meter's name: what an exporter subscribes to.</summary>
    public const string MeterName = "Meridian";

    private const string Datacenter = "datacenter";
    private const string Result = "result";

    // Authorize answers in microseconds from the silo's cache (README, Benchmarks): the default OpenTelemetry buckets
    // (0 .. 10,000, meant for milliseconds) would put every call in the first one.
    private static readonly double[] AuthorizeBuckets = [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.0025, 0.005, 0.01, 0.05];

    /// <summary><c>meridian.authorize.decisions</c>.</summary>
    public static readonly MetricInfo AuthorizeDecisions = new("meridian.authorize.decisions", "counter", "{decision}", [Datacenter, Result],
        "Authorize decisions of this silo (`result` = `allow` or `deny`); a jump in `deny` after a change of intentions is the first sign of a broken rule",
        "none: Consul times the call (`consul.api.http`, path `v1/agent/connect/authorize`), it does not count decisions");

    /// <summary><c>meridian.authorize.duration</c>.</summary>
    public static readonly MetricInfo AuthorizeDuration = new("meridian.authorize.duration", "histogram", "s", [Datacenter, Result],
        "Time to decide one authorize in the silo, from the cached intentions (no grain hop, no storage read); buckets from 5 µs to 50 ms",
        "`consul.api.http` (path `v1/agent/connect/authorize`), which includes HTTP");

    /// <summary><c>meridian.acl.token_cache.requests</c>.</summary>
    public static readonly MetricInfo AclTokenCache = new("meridian.acl.token_cache.requests", "counter", "{request}", [Datacenter, Result],
        "Token resolutions answered from this silo's ACL cache (`result` = `hit`) or looked up in the ACL store (`miss`, including refreshes after `Meridian:Acl:TokenTtl`); many misses mean short TTLs or many distinct tokens",
        "`consul.acl.token.cache_hit`, `consul.acl.token.cache_miss`");

    /// <summary><c>meridian.ca.leaf.issued</c>.</summary>
    public static readonly MetricInfo LeavesIssued = new("meridian.ca.leaf.issued", "counter", "{certificate}", [Datacenter],
        "Leaf certificates signed in this silo: service certificates (issued, renewed, re-issued after a rotation) and workloads' CSRs",
        "none: Consul counts the `ConnectCA.Sign` RPC in `consul.rpc.server.call`");

    /// <summary><c>meridian.ca.leaf.failed</c>.</summary>
    public static readonly MetricInfo LeavesFailed = new("meridian.ca.leaf.failed", "counter", "{certificate}", [Datacenter, "reason"],
        "Leaf signings that failed (`reason` = `invalid`: a CSR or request the CA refused; `error`: the CA could not sign, e.g. not initialised); rate-limited ones are counted apart",
        "`consul.rpc.server.call` with `method=ConnectCA.Sign`, `errored=true`");

    /// <summary><c>meridian.ca.leaf.rate_limited</c>.</summary>
    public static readonly MetricInfo LeavesRateLimited = new("meridian.ca.leaf.rate_limited", "counter", "{certificate}", [Datacenter],
        "Leaf signings refused by `CSRMaxPerSecond`/`CSRMaxConcurrent` after the 500 ms wait (Consul's `ErrRateLimited`); the caller retries",
        "none: Consul returns `Rate limit reached, try again later` and counts nothing");

    /// <summary><c>meridian.ca.active_root.expiry</c>.</summary>
    public static readonly MetricInfo ActiveRootExpiry = new("meridian.ca.active_root.expiry", "gauge", "s", [Datacenter],
        "Seconds until the active root certificate expires, as this silo's leaf signer holds it (every silo reports it; take the minimum)",
        "`consul.mesh.active-root-ca.expiry`");

    /// <summary><c>meridian.ca.active_signing_ca.expiry</c>.</summary>
    public static readonly MetricInfo SigningCaExpiry = new("meridian.ca.active_signing_ca.expiry", "gauge", "s", [Datacenter],
        "Seconds until the certificate that signs leaves here expires: the root in the primary, the intermediate in a secondary",
        "`consul.mesh.active-signing-ca.expiry`");

    /// <summary><c>meridian.ca.certificates</c>.</summary>
    public static readonly MetricInfo Certificates = new("meridian.ca.certificates", "gauge", "{certificate}", [Datacenter, "root"],
        "Service certificates of the datacenter known to its certificate inventory, by the root they chain to (`root` = `active` or `previous`); reported by the silo that holds the inventory",
        "none");

    /// <summary><c>meridian.ca.rotation.progress</c>.</summary>
    public static readonly MetricInfo RotationProgress = new("meridian.ca.rotation.progress", "gauge", "1", [Datacenter],
        "Share of the datacenter's service certificates on the active root (1 when there are none): below 1 for long after `meridian ca rotate` means the rotation is stuck and the old root cannot be pruned",
        "none");

    /// <summary><c>meridian.replication.status</c>.</summary>
    public static readonly MetricInfo ReplicationStatus = new("meridian.replication.status", "gauge", "1", [Datacenter, "source_datacenter", "type"],
        "1 when the last round of this replicated type (`intentions`, `acl`, `datacenters`, `ca-roots`) succeeded after the last failure, 0 while it fails, is held or is filtered; reported by the silo that runs the replicator of the secondary",
        "`consul.leader.replication.<type>.status` (`acl-policies`, `acl-roles`, `acl-tokens`, `config-entries`, `federation-state`)");

    /// <summary><c>meridian.replication.index</c>.</summary>
    public static readonly MetricInfo ReplicationIndex = new("meridian.replication.index", "gauge", "{index}", [Datacenter, "source_datacenter", "type"],
        "The primary's index this secondary has applied",
        "`consul.leader.replication.<type>.index`");

    /// <summary><c>meridian.replication.lag</c>.</summary>
    public static readonly MetricInfo ReplicationLag = new("meridian.replication.lag", "gauge", "{index}", [Datacenter, "source_datacenter", "type"],
        "The primary's index in its last answer minus the applied one (changes not applied yet)",
        "none: Consul has only the index; compare it with the primary's");

    /// <summary><c>meridian.replication.last_success.age</c>.</summary>
    public static readonly MetricInfo ReplicationLastSuccessAge = new("meridian.replication.last_success.age", "gauge", "s", [Datacenter, "source_datacenter", "type"],
        "Seconds since the last successful round (no series before the first); rounds are long-polls of up to `Meridian:Replication:PollWait` (5 min) that answer at once on a change, so more than three times that means replication is stalled",
        "none: `LastSuccess` of Consul's `/v1/acl/replication`");

    private readonly Meter _meter;
    private readonly TimeProvider _clock;
    private readonly Counter<long> _authorizeDecisions;
    private readonly Histogram<double> _authorizeDuration;
    private readonly Counter<long> _aclTokenCache;
    private readonly Counter<long> _leavesIssued;
    private readonly Counter<long> _leavesFailed;
    private readonly Counter<long> _leavesRateLimited;

    private readonly ConcurrentDictionary<string, SignerExpiry> _signers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, int>> _inventories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Datacenter, string Type), ReplicationStatusDto> _replication = new();

    /// <summary>Creates the meter from the host's <see cref="IMeterFactory"/> and every instrument on it.</summary>
    public MeridianInstruments(IMeterFactory meters, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _clock = clock;
        _meter = meters.Create(MeterName);
        _authorizeDecisions = Counter(AuthorizeDecisions);
        _authorizeDuration = _meter.CreateHistogram(AuthorizeDuration.Name, AuthorizeDuration.Unit, AuthorizeDuration.Meaning,
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AuthorizeBuckets });
        _aclTokenCache = Counter(AclTokenCache);
        _leavesIssued = Counter(LeavesIssued);
        _leavesFailed = Counter(LeavesFailed);
        _leavesRateLimited = Counter(LeavesRateLimited);
        Gauge(ActiveRootExpiry, () => Signers(s => s.RootNotAfter));
        Gauge(SigningCaExpiry, () => Signers(s => s.SigningNotAfter));
        Gauge(Certificates, CertificateCounts);
        Gauge(RotationProgress, RotationProgressRatio);
        Gauge(ReplicationStatus, () => Replication(s => s.LastSuccess != DateTimeOffset.MinValue && s.LastSuccess >= s.LastError ? 1 : 0));
        Gauge(ReplicationIndex, () => Replication(s => s.ReplicatedIndex));
        Gauge(ReplicationLag, () => Replication(s => s.Lag));
        Gauge(ReplicationLastSuccessAge, () => Replication(s => s.LastSuccess == DateTimeOffset.MinValue ? null : (_clock.GetUtcNow() - s.LastSuccess).TotalSeconds));
    }

    /// <summary>Every metric this class defines, in declaration order (what docs/metrics.md lists).</summary>
    public static IReadOnlyList<MetricInfo> All { get; } =
    [
        .. typeof(MeridianInstruments).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(MetricInfo)).OrderBy(f => f.MetadataToken).Select(f => (MetricInfo)f.GetValue(null)!),
    ];

    /// <summary>Instruments of a silo nobody exports from (unit tests that build grains by hand).</summary>
    internal static MeridianInstruments CreateUnexported()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.MetricsServiceExtensions.AddMetrics(services);
        var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        return new MeridianInstruments(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IMeterFactory>(provider), TimeProvider.System);
    }

    /// <summary>One authorize decided in <paramref name="elapsedTicks"/> <see cref="Stopwatch"/> ticks.</summary>
    public void OnAuthorized(string datacenter, bool allowed, long elapsedTicks)
    {
        var tags = new System.Diagnostics.TagList { { Datacenter, datacenter }, { Result, allowed ? "allow" : "deny" } };
        _authorizeDecisions.Add(1, tags);
        if (_authorizeDuration.Enabled) _authorizeDuration.Record((double)elapsedTicks / Stopwatch.Frequency, tags);
    }

    /// <summary>One token resolution, from the cache (<paramref name="hit"/>) or the store.</summary>
    public void OnAclTokenResolved(string datacenter, bool hit)
        => _aclTokenCache.Add(1, new System.Diagnostics.TagList { { Datacenter, datacenter }, { Result, hit ? "hit" : "miss" } });

    /// <summary>One leaf certificate signed.</summary>
    public void OnLeafIssued(string datacenter) => _leavesIssued.Add(1, new System.Diagnostics.TagList { { Datacenter, datacenter } });

    /// <summary>One leaf signing failed; <paramref name="invalid"/>: the request was refused as bad input.</summary>
    public void OnLeafFailed(string datacenter, bool invalid)
        => _leavesFailed.Add(1, new System.Diagnostics.TagList { { Datacenter, datacenter }, { "reason", invalid ? "invalid" : "error" } });

    /// <summary>One leaf signing refused by the datacenter's CSR rate limit.</summary>
    public void OnLeafRateLimited(string datacenter) => _leavesRateLimited.Add(1, new System.Diagnostics.TagList { { Datacenter, datacenter } });

    /// <summary>The signer this silo now uses: the active root, and the expiries of the root and of the signing certificate.</summary>
    public void SetSigner(string datacenter, string activeRootId, DateTimeOffset rootNotAfter, DateTimeOffset signingNotAfter)
        => _signers[datacenter] = new SignerExpiry(activeRootId, rootNotAfter, signingNotAfter);

    /// <summary>The certificate inventory of <paramref name="datacenter"/>: certificates per root id (null: it left this silo).</summary>
    public void SetInventory(string datacenter, IReadOnlyDictionary<string, int>? certificatesByRoot)
    {
        if (certificatesByRoot is null) _inventories.TryRemove(datacenter, out _);
        else _inventories[datacenter] = certificatesByRoot;
    }

    /// <summary>
    /// The status of the replicator of <paramref name="status"/>'s type in the secondary <paramref name="datacenter"/>, as
    /// its last round left it (null: the replicator left this silo, so another silo reports it).
    /// </summary>
    public void SetReplication(string datacenter, string type, ReplicationStatusDto? status)
    {
        if (status is null) _replication.TryRemove((datacenter, type), out _);
        else _replication[(datacenter, type)] = status;
    }

    /// <summary>The meter itself (tests compare its instruments with <see cref="All"/>).</summary>
    internal Meter Meter => _meter;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private Counter<long> Counter(MetricInfo info) => _meter.CreateCounter<long>(info.Name, info.Unit, info.Meaning);

    private void Gauge(MetricInfo info, Func<IEnumerable<Measurement<double>>> observe)
        => _meter.CreateObservableGauge(info.Name, observe, info.Unit, info.Meaning);

    private IEnumerable<Measurement<double>> Signers(Func<SignerExpiry, DateTimeOffset> notAfter)
    {
        var now = _clock.GetUtcNow();
        foreach (var (datacenter, signer) in _signers)
            yield return new((notAfter(signer) - now).TotalSeconds, new KeyValuePair<string, object?>(Datacenter, datacenter));
    }

    private IEnumerable<Measurement<double>> CertificateCounts()
    {
        foreach (var (datacenter, active, total) in Inventories())
        {
            yield return new(active, new(Datacenter, datacenter), new("root", "active"));
            yield return new(total - active, new(Datacenter, datacenter), new("root", "previous"));
        }
    }

    private IEnumerable<Measurement<double>> RotationProgressRatio()
    {
        foreach (var (datacenter, active, total) in Inventories())
            yield return new(total == 0 ? 1 : (double)active / total, new KeyValuePair<string, object?>(Datacenter, datacenter));
    }

    // The active root is the one this silo's signer uses (LocalSigner follows the CA's roots), so a rotation shows at
    // once as certificates on the previous root, before any of them is re-issued.
    private IEnumerable<(string Datacenter, int Active, int Total)> Inventories()
    {
        foreach (var (datacenter, byRoot) in _inventories)
        {
            var activeRoot = _signers.TryGetValue(datacenter, out var signer) ? signer.ActiveRootId : "";
            yield return (datacenter, byRoot.TryGetValue(activeRoot, out var active) ? active : 0, byRoot.Values.Sum());
        }
    }

    private IEnumerable<Measurement<double>> Replication(Func<ReplicationStatusDto, double?> value)
    {
        foreach (var ((datacenter, type), status) in _replication)
        {
            if (!status.Enabled || value(status) is not { } v) continue;
            yield return new(v, new(Datacenter, datacenter), new("source_datacenter", status.SourceDatacenter), new("type", type));
        }
    }

    private sealed record SignerExpiry(string ActiveRootId, DateTimeOffset RootNotAfter, DateTimeOffset SigningNotAfter);
}
