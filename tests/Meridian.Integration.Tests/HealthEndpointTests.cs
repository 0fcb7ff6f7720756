using System.Globalization;
using System.Net;
using System.Text.Json;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Integration.Tests;

/// <summary>
/// <c>/health</c> of a silo (production host wiring, HTTP on) when something inside the datacenter throws: degraded
/// with a reason, never the exception's type, message or stack.
/// </summary>
public sealed class HealthEndpointTests
{
    private const string Secret = "the disk at /var/lib/meridian-7f3a is on fire";

    [Theory]
    [InlineData(nameof(IDatacenterGrain), nameof(IDatacenterGrain.GetStatusAsync), "the status of datacenter dc1 could not be read")]
    [InlineData(nameof(ICertificateAuthorityGrain), nameof(ICertificateAuthorityGrain.InitializeAsync), "CA initialisation failed: ")]
    public async Task Health_GrainThrows_DegradedWithAReason_WithoutTheExceptionText(string grain, string method, string reason)
    {
        var port = FreePorts.Take(1)[0];
        await using var silo = await InProcessDatacenter.StartAsync(null,
            services => services.AddSingleton<IIncomingGrainCallFilter>(new Throwing(grain, method)),
            new Dictionary<string, string?> { ["Meridian:Endpoints:HttpPort"] = port.ToString(CultureInfo.InvariantCulture) });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        using var response = await http.GetAsync($"http://127.0.0.1:{port}/health");
        var body = await response.Content.ReadAsStringAsync();

        // Before: a 500 with an empty body (the grain's exception left the endpoint), or 503 "critical" quoting the
        // exception (InvalidOperationException and its message) in Degraded.
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("degraded", json.RootElement.GetProperty("status").GetString());
        Assert.Contains(reason, json.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
    }

    // A failure deep inside the datacenter: the named method of the named grain interface throws.
    private sealed class Throwing(string grain, string method) : IIncomingGrainCallFilter
    {
        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType?.Name == grain && context.MethodName == method) throw new InvalidOperationException(Secret);
            return context.Invoke();
        }
    }
}
