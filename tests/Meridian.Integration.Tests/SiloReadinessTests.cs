using System.Globalization;
using System.Net;
using System.Text.Json;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Silo;

namespace Meridian.Integration.Tests;

/// <summary>
/// Readiness apart from liveness (<see cref="SiloReadiness"/>): ready once the CA is initialised and, in a secondary,
/// every replication has applied a first round and none is held; live while the process serves and is not stopping.
/// </summary>
public sealed class SiloReadinessTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 8, 0, 0, TimeSpan.Zero);

    private static DatacenterStatusDto Status(string activeRoot, params ReplicationStatusDto[] replication) => new()
    {
        Datacenter = "dc2",
        PrimaryDatacenter = "dc1",
        Role = replication.Length == 0 ? "primary" : "secondary",
        Ca = new CaStatusDto { State = activeRoot.Length == 0 ? "UNINITIALIZED" : "INITIALIZED", ActiveRootID = activeRoot },
        Replication = [.. replication],
    };

    private static ReplicationStatusDto Stream(string type, DateTimeOffset lastSuccess, bool enabled = true, ReplicationHoldDto? held = null)
        => new() { Enabled = enabled, ReplicationType = type, SourceDatacenter = "dc1", LastSuccess = lastSuccess, Held = held };

    public static TheoryData<string, DatacenterStatusDto, string?> Cases => new()
    {
        { "primary with a CA", Status("ab:cd"), null },
        { "primary, CA not initialised", Status(""), "the CA of dc2 is not initialised (state UNINITIALIZED)" },
        { "secondary, every stream synced once", Status("ab:cd", Stream("intentions", Now), Stream("ca-roots", Now)), null },
        { "secondary, a stream that never succeeded",
            Status("ab:cd", Stream("intentions", Now), Stream("ca-roots", DateTimeOffset.MinValue)),
            "ca-roots replication from dc1 has not completed its first round" },
        { "secondary, a disabled stream (ACLs off) does not count", Status("ab:cd", Stream("intentions", Now), Stream("acl-tokens", default, enabled: false)), null },
        { "secondary, a held stream",
            Status("ab:cd", Stream("intentions", Now, held: new ReplicationHoldDto { Reason = "primary-replaced", Summary = "held: primary replaced (epoch 0f3c→77e0)" })),
            "intentions replication is held (held: primary replaced (epoch 0f3c→77e0)): review it with `meridian replication status` and apply it with `meridian replication adopt`" },
        { "secondary before everything", Status("", Stream("intentions", default)),
            "the CA of dc2 is not initialised (state UNINITIALIZED); intentions replication from dc1 has not completed its first round" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NotReadyReason_Status_ReadyOrWhyNot(string @case, DatacenterStatusDto status, string? reason)
    {
        Assert.True(reason == SiloReadiness.NotReadyReason(status), @case);
    }

    [Fact]
    public async Task HealthReadyAndLive_Primary_BothAnswer200()
    {
        var port = FreePorts.Take(1)[0];
        await using var silo = await InProcessDatacenter.StartAsync(null, null,
            new Dictionary<string, string?> { ["Meridian:Endpoints:HttpPort"] = port.ToString(CultureInfo.InvariantCulture) });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var (readyCode, ready) = await GetAsync(http, $"http://127.0.0.1:{port}{SiloReadiness.ReadyPath}");
        var (liveCode, live) = await GetAsync(http, $"http://127.0.0.1:{port}{SiloReadiness.LivePath}");

        Assert.True(readyCode == HttpStatusCode.OK, $"{readyCode} {ready}");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, liveCode);
        Assert.Equal("alive", live.GetProperty("status").GetString());
    }

    [Fact]
    public async Task HealthReady_SecondaryWhosePrimaryIsDown_NotReadyWithTheReason_WhileLive()
    {
        var ports = FreePorts.Take(2);
        await using var silo = await InProcessDatacenter.StartAsync(null, null, new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = "dc2",
            ["Meridian:Endpoints:HttpPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            // Nothing listens there: the secondary never completes a round.
            ["Meridian:Primary:Gateways:0"] = $"127.0.0.1:{ports[1]}",
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var (readyCode, ready) = await GetAsync(http, $"http://127.0.0.1:{ports[0]}{SiloReadiness.ReadyPath}");
        var (liveCode, live) = await GetAsync(http, $"http://127.0.0.1:{ports[0]}{SiloReadiness.LivePath}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyCode);
        Assert.Equal("not-ready", ready.GetProperty("status").GetString());
        var reason = ready.GetProperty("reason").GetString();
        Assert.Contains("the CA of dc2 is not initialised", reason, StringComparison.Ordinal);
        Assert.Contains("intentions replication from dc1 has not completed its first round", reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, liveCode);
        Assert.Equal("alive", live.GetProperty("status").GetString());
    }

    private static async Task<(HttpStatusCode, JsonElement)> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }
}
