using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meridian.Grains.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Meridian.Grains.Tests;

/// <summary>
/// docs/metrics.md, its alert rules and its Grafana dashboard against <see cref="MeridianInstruments"/>: the table is
/// generated from the instruments class, and the rules and the dashboard may name only metrics it defines.
/// </summary>
public sealed partial class MetricsDocsTests
{
    private static readonly string Alerts = Path.Combine("docs", "metrics", "alerts.yaml");
    private static readonly string Dashboard = Path.Combine("docs", "metrics", "grafana-meridian.json");

    [Fact]
    public void Docs_MetricsTable_IsTheInstrumentsClass()
    {
        var expected = string.Join('\n', ["| Prometheus name | OpenTelemetry name | Type | Unit | Labels | Meaning | Consul equivalent |", "|---|---|---|---|---|---|---|",
            .. MeridianInstruments.All.Select(m =>
                $"| `{m.PrometheusName}` | `{m.Name}` | {m.Kind} | `{m.Unit}` | {string.Join(", ", m.Labels.Select(l => $"`{l}`"))} | {m.Meaning} | {m.Consul} |")]);
        GeneratedDocs.AssertBlock(Path.Combine("docs", "metrics.md"), "metrics", nameof(MetricsDocsTests), expected);
    }

    [Fact]
    public void Instruments_Meter_PublishesExactlyTheDocumentedMetrics()
    {
        using var instruments = MeridianInstruments.CreateUnexported();
        List<(string Name, string Kind, string? Unit, string? Description)> published = [];
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (!ReferenceEquals(instrument.Meter, instruments.Meter)) return;
                var kind = instrument switch
                {
                    Counter<long> => "counter",
                    Histogram<double> => "histogram",
                    ObservableGauge<double> => "gauge",
                    _ => instrument.GetType().Name,
                };
                lock (published) published.Add((instrument.Name, kind, instrument.Unit, instrument.Description));
            },
        };
        listener.Start();

        Assert.Equal(MeridianInstruments.MeterName, instruments.Meter.Name);
        Assert.Equal(
            MeridianInstruments.All.Select(m => (m.Name, m.Kind, (string?)m.Unit, (string?)m.Meaning)).OrderBy(m => m.Name, StringComparer.Ordinal),
            published.OrderBy(m => m.Name, StringComparer.Ordinal));
        Assert.All(MeridianInstruments.All, m => Assert.Matches("^meridian\\.[a-z_]+\\.[a-z_.]+$", m.Name));
        Assert.Equal(MeridianInstruments.All.Count, MeridianInstruments.All.Select(m => m.PrometheusName).Distinct().Count());
    }

    [Fact]
    public void AlertRules_ParseAsPrometheusRules_AndNameOnlyDefinedMetrics()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(GeneratedDocs.RepositoryRoot(), Alerts))) yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents.Single().RootNode;
        var rules = ((YamlSequenceNode)root["groups"]).Cast<YamlMappingNode>()
            .SelectMany(g =>
            {
                Assert.False(string.IsNullOrEmpty(((YamlScalarNode)g["name"]).Value));
                return ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>();
            }).ToList();
        Assert.NotEmpty(rules);
        HashSet<string> used = [];
        foreach (var rule in rules)
        {
            var name = Scalar(rule, "alert");
            Assert.Matches("^Meridian[A-Za-z]+$", name);
            var expr = Scalar(rule, "expr");
            Assert.Matches(@"^\d+[smh]$", Scalar(rule, "for"));
            Assert.Contains(Scalar((YamlMappingNode)rule["labels"], "severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(Scalar((YamlMappingNode)rule["annotations"], "summary")), name);
            Assert.False(string.IsNullOrWhiteSpace(Scalar((YamlMappingNode)rule["annotations"], "description")), name);
            used.UnionWith(AssertKnownMetrics(expr, $"{Alerts} {name}"));
        }
        // The four the issue asks for: replication stalled and lagging, CA expiring, rotation stuck.
        Assert.Superset(new HashSet<string>
        {
            MeridianInstruments.ReplicationLastSuccessAge.PrometheusName, MeridianInstruments.ReplicationLag.PrometheusName,
            MeridianInstruments.ActiveRootExpiry.PrometheusName, MeridianInstruments.SigningCaExpiry.PrometheusName,
            MeridianInstruments.RotationProgress.PrometheusName,
        }, used);
    }

    [Fact]
    public void GrafanaDashboard_ParsesAsJson_AndNamesOnlyDefinedMetrics()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(GeneratedDocs.RepositoryRoot(), Dashboard)));
        var root = json.RootElement;
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        var exprs = new List<string>();
        foreach (var panel in panels)
        {
            Assert.False(string.IsNullOrEmpty(panel.GetProperty("title").GetString()));
            if (panel.GetProperty("type").GetString() == "row") continue;
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            exprs.AddRange(targets.Select(t => t.GetProperty("expr").GetString() ?? ""));
        }
        HashSet<string> used = [];
        foreach (var expr in exprs) used.UnionWith(AssertKnownMetrics(expr, Dashboard));
        // Every Meridian metric has a panel.
        Assert.Superset(used, MeridianInstruments.All.Select(m => m.PrometheusName).ToHashSet());
    }

    // The Meridian metrics an expression names (a histogram's by its base name); each must be defined.
    private static HashSet<string> AssertKnownMetrics(string expr, string where)
    {
        var known = MeridianInstruments.All.ToDictionary(m => m.PrometheusName, m => m);
        HashSet<string> used = [];
        foreach (Match m in MetricName().Matches(expr))
        {
            var name = m.Value;
            var histogram = Regex.Replace(name, "_(bucket|sum|count)$", "");
            if (known.ContainsKey(name)) used.Add(name);
            else if (known.TryGetValue(histogram, out var h) && h.Kind == "histogram") used.Add(histogram);
            else Assert.Fail($"{where} names {name}, which MeridianInstruments does not define (docs/metrics.md lists what it does)");
        }
        Assert.True(used.Count > 0, $"{where}: `{expr}` names no Meridian metric");
        return used;
    }

    private static string Scalar(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } ? text : "";

    [GeneratedRegex(@"\bmeridian_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
