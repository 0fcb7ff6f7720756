using System.Diagnostics.Metrics;
using Meridian.Grains.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Meridian.Grains.Tests;

/// <summary>What the gauges of <see cref="MeridianInstruments"/> report from the values reporters stored.</summary>
public sealed class MeridianInstrumentsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(60, 0, 1)]      // succeeded a minute ago, never failed
    [InlineData(60, 30, 0)]     // failed after the last success
    [InlineData(30, 60, 1)]     // failed, then recovered (Consul's rule: LastSuccess later than LastError)
    [InlineData(null, 30, 0)]   // never succeeded
    public void ReplicationStatus_IsOne_OnlyWhenTheLastSuccessIsLaterThanTheLastError(int? successAgo, int errorAgo, double expected)
    {
        var (instruments, observe) = Create();
        instruments.SetReplication("dc2", "intentions", Status(successAgo, errorAgo));

        var measured = observe();

        Assert.Equal(expected, Assert.Single(measured, m => m.Name == MeridianInstruments.ReplicationStatus.Name).Value);
        var age = measured.Where(m => m.Name == MeridianInstruments.ReplicationLastSuccessAge.Name).ToList();
        if (successAgo is { } ago) Assert.Equal(ago, Assert.Single(age).Value);
        else Assert.Empty(age); // no series before the first success
    }

    [Fact]
    public void Replication_DisabledOrLeftThisSilo_ReportsNothing()
    {
        var (instruments, observe) = Create();
        instruments.SetReplication("dc1", "intentions", new ReplicationStatusDto { Enabled = false, LastSuccess = Now });
        instruments.SetReplication("dc2", "acl", Status(10, 0));
        instruments.SetReplication("dc2", "acl", null);

        Assert.DoesNotContain(observe(), m => m.Name.StartsWith("meridian.replication.", StringComparison.Ordinal));
    }

    [Fact]
    public void Rotation_CountsCertificatesOnTheSignersActiveRoot()
    {
        var (instruments, observe) = Create();
        instruments.SetSigner("dc1", "root-2", Now.AddDays(3650), Now.AddDays(365));
        instruments.SetInventory("dc1", new Dictionary<string, int> { ["root-1"] = 3, ["root-2"] = 1 });

        var measured = observe();

        Assert.Equal(0.25, Assert.Single(measured, m => m.Name == MeridianInstruments.RotationProgress.Name).Value);
        Assert.Equal(1, Assert.Single(measured, m => m.Name == MeridianInstruments.Certificates.Name && m.Tags.Contains("root=active")).Value);
        Assert.Equal(3, Assert.Single(measured, m => m.Name == MeridianInstruments.Certificates.Name && m.Tags.Contains("root=previous")).Value);
        Assert.Equal(TimeSpan.FromDays(365).TotalSeconds, Assert.Single(measured, m => m.Name == MeridianInstruments.SigningCaExpiry.Name).Value);
        Assert.Equal(TimeSpan.FromDays(3650).TotalSeconds, Assert.Single(measured, m => m.Name == MeridianInstruments.ActiveRootExpiry.Name).Value);
    }

    [Fact]
    public void Rotation_NoCertificates_IsComplete()
    {
        var (instruments, observe) = Create();
        instruments.SetInventory("dc1", new Dictionary<string, int>());

        Assert.Equal(1, Assert.Single(observe(), m => m.Name == MeridianInstruments.RotationProgress.Name).Value);
    }

    private static ReplicationStatusDto Status(int? successAgo, int errorAgo) => new()
    {
        Enabled = true, SourceDatacenter = "dc1", ReplicationType = "intentions",
        LastSuccess = successAgo is { } s ? Now.AddSeconds(-s) : DateTimeOffset.MinValue,
        LastError = errorAgo > 0 ? Now.AddSeconds(-errorAgo) : DateTimeOffset.MinValue,
    };

    // Instruments on a fake clock at Now, and a function that reads every gauge once, as a scrape does.
    private static (MeridianInstruments Instruments, Func<List<(string Name, double Value, string Tags)>> Observe) Create()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        var meters = services.BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var instruments = new MeridianInstruments(meters, new FakeTimeProvider(Now));
        var measured = new List<(string Name, double Value, string Tags)>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, instruments.Meter)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            measured.Add((instrument.Name, value, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();
        return (instruments, () =>
        {
            measured.Clear();
            listener.RecordObservableInstruments();
            return [.. measured];
        });
    }
}
