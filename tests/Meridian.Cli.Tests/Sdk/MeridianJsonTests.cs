using System.Text.Json;
using Meridian.Client;

namespace Meridian.Cli.Tests.Sdk;

/// <summary>The SDK's JSON conventions: Go durations, RFC 3339 UTC times, readable PEM, nulls left out.</summary>
[Trait("Category", "Unit")]
public sealed class MeridianJsonTests
{
    private sealed record Sample(TimeSpan Ttl, DateTimeOffset NotAfter, string Pem, string? Missing);

    [Fact]
    public void Serialize_GoDurationRfc3339UtcReadablePem_NullsLeftOut()
    {
        var sample = new Sample(TimeSpan.FromHours(72) + TimeSpan.FromMilliseconds(1500),
            new DateTimeOffset(2025, 1, 2, 5, 4, 5, 500, TimeSpan.FromHours(2)), "-----BEGIN CERTIFICATE-----\nab+/cd==\n", null);
        var json = JsonSerializer.Serialize(sample, MeridianJson.Options);
        Assert.Equal("""
            {
              "Ttl": "72h0m1.5s",
              "NotAfter": "2025-01-02T03:04:05.5Z",
              "Pem": "-----BEGIN CERTIFICATE-----\nab+/cd==\n"
            }
            """.ReplaceLineEndings("\n"), json.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Deserialize_RoundTrips()
    {
        var sample = new Sample(TimeSpan.FromMinutes(90), new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero), "pem", null);
        var back = JsonSerializer.Deserialize<Sample>(JsonSerializer.Serialize(sample, MeridianJson.Options), MeridianJson.Options);
        Assert.Equal(sample, back);
    }

    [Theory]
    [InlineData("\"1h30m\"", 90 * 60)]
    [InlineData("\"10s\"", 10)]
    [InlineData("\"0s\"", 0)]
    public void GoDurationConverter_ReadsGoDurations(string json, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), JsonSerializer.Deserialize<TimeSpan>(json, MeridianJson.Options));

    [Fact]
    public void GoDurationConverter_RejectsWhatGoRejects()
        => Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TimeSpan>("\"10 minutes\"", MeridianJson.Options));

    [Fact]
    public void CreateOptions_IsACopyTheCallerMayChange()
    {
        var compact = MeridianJson.CreateOptions();
        compact.WriteIndented = false;
        Assert.True(MeridianJson.Options.WriteIndented);
        Assert.Equal("{\"Ttl\":\"1m0s\",\"NotAfter\":\"2030-06-01T00:00:00Z\",\"Pem\":\"\"}",
            JsonSerializer.Serialize(new Sample(TimeSpan.FromMinutes(1), new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero), "", null), compact));
    }
}
