using System.Security.Cryptography;
using System.Text.Json;
using Meridian.Grains;
using Meridian.Pki;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// Service certificates issued per second through IServiceCertificateGrain.GetAsync in an in-process silo: every call
/// goes to a new service (a new activation that generates its P-256 key and has the leaf signed), many concurrent.
/// Baseline in the same run on the same cores: the raw .NET rate of one P-256 key generation + one ECDsa P-256
/// SignData (CA key, TBS-sized buffer) per operation on all cores. Rounds alternate, best of each kept. Target ratio &gt;= 0.5.
/// A second baseline generates the key the way the grain does (<see cref="LeafKey.CreateP256"/>: OpenSSL directly on
/// Linux, without .NET's re-check of every new key) + the same signature: the ratio against it is what the grain and
/// Orleans cost on top of the cryptography itself. Last, the certificate rate with metrics off and on
/// (<see cref="MetricsSwitch"/>), each mode on a silo of its own, printed as a ratio (target &gt;= 0.95).
/// </summary>
internal static class LeafIssuanceScenario
{
    // 8 callers per core: with 64 the silo spent its time switching between half-built activations (ratio ~0.47 with
    // the server GC, p99 50-80 ms); 16 keeps both cores busy (p99 10-30 ms).
    private const int Concurrency = 16;
    private const int Rounds = 6;
    private const string CsrMaxPerSecond = "1000000";
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Measured = TimeSpan.FromSeconds(3);

    public static async Task RunAsync()
    {
        if (MetricsSwitch.Only)
        {
            var only = await MetricsSwitch.CompareAsync("leaf-issuance", CertificatesWithMetricsAsync);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                scenario = "leaf-issuance", metrics_off_per_s = Math.Round(only.Off), metrics_on_per_s = Math.Round(only.On),
                metrics_on_to_off = Math.Round(only.Ratio, 3),
            }));
            return;
        }
        var threads = Environment.ProcessorCount;
        Console.WriteLine($"leaf-issuance: in-process silo, {Concurrency} concurrent GetAsync on distinct services; raw baseline on " +
            $"{threads} threads; {Rounds} alternating rounds (warm-up {Warmup.TotalSeconds} s, measured {Measured.TotalSeconds} s), " +
            $"best kept; CSRMaxPerSecond {CsrMaxPerSecond}; load {Latency.Load()}");
        // Every issue passes the datacenter's CSR limiter (Consul's CSRMaxPerSecond; the default 50/s would measure
        // the limit, not the signer): a rate far above what two cores sign keeps the limiter's leases on the path
        // without ever binding.
        await using var silo = await SiloHarness.StartInProcessAsync(new Dictionary<string, string> { ["Meridian:Ca:CSRMaxPerSecond"] = CsrMaxPerSecond });
        var first = await silo.Grains.GetGrain<IServiceCertificateGrain>("dc1/warmup").GetAsync(); // initialises the CA
        var tbsLength = first.CertPEM.Length * 3 / 4 - 80; // ~ DER certificate minus signature and wrapping
        using var ca = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caParams = ca.ExportParameters(includePrivateParameters: true);

        Console.WriteLine($"  leaf keys in the grain: {LeafKey.Generator}");
        double certs = 0, raw = 0, rawLeafKey = 0;
        long serviceCounter = 0;
        var roundRatios = new List<double>();
        for (var round = 1; round <= Rounds; round++)
        {
            var pause0 = GC.GetTotalPauseDuration();
            var c = await Latency.ClosedLoopAsync(Concurrency, Warmup, Measured, async (_, _) =>
            {
                var cert = await silo.Grains.GetGrain<IServiceCertificateGrain>(
                    $"dc1/svc-{Interlocked.Increment(ref serviceCounter)}").GetAsync();
                if (cert.PrivateKeyPEM.Length == 0) throw new InvalidOperationException("no key");
            });
            var certPause = GC.GetTotalPauseDuration() - pause0;
            var r = ParallelRate.Measure(threads, Warmup, Measured, _ =>
            {
                var k = ECDsa.Create(caParams);
                var data = new byte[tbsLength];
                RandomNumberGenerator.Fill(data);
                return () =>
                {
                    using var leaf = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    k.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                };
            });
            var rl = ParallelRate.Measure(threads, Warmup, Measured, _ =>
            {
                var k = ECDsa.Create(caParams);
                var data = new byte[tbsLength];
                RandomNumberGenerator.Fill(data);
                return () =>
                {
                    LeafKey.CreateP256();
                    k.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                };
            });
            Console.WriteLine($"  round {round}: certs {c.PerSecond,9:N0} /s (p99 {c.P99Ms:F1} ms, {c.Errors} errors)   " +
                $"raw .NET keygen+sign {r,9:N0} /s   ratio {c.PerSecond / r:F3}   raw grain-keygen+sign {rl,9:N0} /s   ratio {c.PerSecond / rl:F3}   " +
                $"(GC paused {certPause.TotalMilliseconds:F0} ms of the certificate phase; heap {GC.GetTotalMemory(false) >> 20} MiB)");
            (certs, raw, rawLeafKey) = (Math.Max(certs, c.PerSecond), Math.Max(raw, r), Math.Max(rawLeafKey, rl));
            roundRatios.Add(c.PerSecond / r);
        }
        var ratio = certs / raw;
        var median = roundRatios.Order().ElementAt(roundRatios.Count / 2);
        Console.WriteLine($"  certificates issued:       {certs,10:N0} /s");
        Console.WriteLine($"  raw P-256 keygen + sign:   {raw,10:N0} /s");
        Console.WriteLine($"  ratio:                     {ratio,10:F3}   ({serviceCounter:N0} services issued; load {Latency.Load()})");
        Console.WriteLine($"  median of the rounds' own ratios: {median:F3} (a noisy machine moves single rounds)");
        Console.WriteLine($"  raw grain-keygen + sign:   {rawLeafKey,10:N0} /s   ratio {certs / rawLeafKey:F3} (the grain's and Orleans' share)");
        await silo.DisposeAsync(); // one silo (one exporter) in the process at a time for the comparison
        var metrics = await MetricsSwitch.CompareAsync("leaf-issuance", CertificatesWithMetricsAsync);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "leaf-issuance",
            certs_per_s = Math.Round(certs),
            raw_keygen_sign_per_s = Math.Round(raw),
            ratio = Math.Round(ratio, 3),
            median_round_ratio = Math.Round(median, 3),
            raw_grain_keygen_sign_per_s = Math.Round(rawLeafKey),
            ratio_vs_grain_keygen = Math.Round(certs / rawLeafKey, 3),
            leaf_key_generator = LeafKey.Generator,
            metrics_off_per_s = Math.Round(metrics.Off),
            metrics_on_per_s = Math.Round(metrics.On),
            metrics_on_to_off = Math.Round(metrics.Ratio, 3),
        }));
    }

    // Certificates per second on a new silo with Meridian:Metrics:Enabled = on (in this process, no HTTP port: the
    // exporter aggregates every measurement as it would between scrapes).
    private static async Task<double> CertificatesWithMetricsAsync(bool on)
    {
        await using var silo = await SiloHarness.StartInProcessAsync(new Dictionary<string, string>
        {
            ["Meridian:Ca:CSRMaxPerSecond"] = CsrMaxPerSecond, [MetricsSwitch.Key] = on ? "true" : "false",
        });
        await silo.Grains.GetGrain<IServiceCertificateGrain>("dc1/warmup").GetAsync(); // initialises the CA
        long serviceCounter = 0;
        var c = await Latency.ClosedLoopAsync(Concurrency, Warmup, MetricsSwitch.Measured(Measured), async (_, _) =>
        {
            var cert = await silo.Grains.GetGrain<IServiceCertificateGrain>($"dc1/svc-{Interlocked.Increment(ref serviceCounter)}").GetAsync();
            if (cert.PrivateKeyPEM.Length == 0) throw new InvalidOperationException("no key");
        });
        return c.PerSecond;
    }
}
