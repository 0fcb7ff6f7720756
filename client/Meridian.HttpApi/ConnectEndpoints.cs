using System.Text;
using Meridian.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// Connect CA roots and configuration, and the agent's Connect endpoints: authorize, roots, leaf.
/// https://developer.hashicorp.com/consul/api-docs/connect/ca and https://developer.hashicorp.com/consul/api-docs/agent/connect
/// </summary>
internal static class ConnectEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/connect/ca/roots", ("GET", RootsAsync));
        api.Route(routes, "/v1/agent/connect/ca/roots", ("GET", RootsAsync));
        api.Route(routes, "/v1/connect/ca/configuration", ("GET", GetConfigurationAsync), ("PUT", SetConfigurationAsync));
        api.Route(routes, "/v1/agent/connect/authorize", ("POST", AuthorizeAsync));
        api.Route(routes, "/v1/agent/connect/ca/leaf/{service}", ("GET", LeafAsync));
    }

    private static async Task RootsAsync(ConsulRequest r)
    {
        // Go's strconv.ParseBool, as Consul: py-consul always sends pem=0 or pem=1.
        var pem = r.Query("pem") is { } p && (ConsulRequest.ParseBool(p) ?? throw new ConsulHttpException(400, "The 'pem' query parameter must be a boolean value"));
        await r.RequireLocalDatacenterAsync();
        var client = r.Client;
        var indexed = await r.BlockAsync(ct => client.WatchCaRootsAsync(0, TimeSpan.Zero, ct), x => x.Index,
            (index, wait, ct) => client.WatchCaRootsAsync(index, wait, ct));
        var roots = indexed.Value;
        if (roots.Roots.IsDefaultOrEmpty || roots.ActiveRootID.Length == 0) throw new ConsulHttpException(500, "CA has not finished initializing");
        if (!pem)
        {
            await r.JsonAsync(roots, indexed.Index);
            return;
        }
        r.QueryHeaders(indexed.Index);
        var text = new StringBuilder();
        foreach (var root in roots.Roots)
        {
            text.Append(root.RootCert.TrimEnd()).Append('\n');
            foreach (var intermediate in root.IntermediateCerts.IsDefault ? [] : root.IntermediateCerts) text.Append(intermediate.TrimEnd()).Append('\n');
        }
        r.Http.Response.ContentType = "application/pem-certificate-chain";
        await r.Http.Response.WriteAsync(text.ToString(), r.Aborted);
    }

    private static async Task GetConfigurationAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var c = await r.Client.GetCaConfigurationAsync(r.Aborted);
        await r.JsonAsync(Shape(c));
    }

    private static object Shape(CaConfigurationDto c) => new Dictionary<string, object?>
    {
        ["Provider"] = c.Provider,
        ["Config"] = new Dictionary<string, object>
        {
            ["LeafCertTTL"] = Core.Certificates.GoDuration.Format(c.LeafCertTTL),
            ["IntermediateCertTTL"] = Core.Certificates.GoDuration.Format(c.IntermediateCertTTL),
            ["RootCertTTL"] = Core.Certificates.GoDuration.Format(c.RootCertTTL),
            ["PrivateKeyType"] = c.PrivateKeyType,
            ["PrivateKeyBits"] = c.PrivateKeyBits,
            ["CSRMaxPerSecond"] = c.CSRMaxPerSecond,
            ["CSRMaxConcurrent"] = c.CSRMaxConcurrent,
        },
        ["State"] = null,
        ["ForceWithoutCrossSigning"] = false,
        ["CreateIndex"] = c.ModifyIndex,
        ["ModifyIndex"] = c.ModifyIndex,
    };

    private static async Task SetConfigurationAsync(ConsulRequest r)
    {
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        if (body.Get("State") is System.Text.Json.Nodes.JsonObject { Count: > 0 })
            throw new ConsulHttpException(400, "Provider State is read-only. It must be omitted or identical to the current value");
        var current = await r.Client.GetCaConfigurationAsync(r.Aborted);
        var config = body.Get("Config") as System.Text.Json.Nodes.JsonObject ?? [];
        TimeSpan Duration(string name, TimeSpan fallback)
        {
            var node = config.Get(name);
            if (node is null) return fallback;
            if (node.GetValueKind() == System.Text.Json.JsonValueKind.Number) return TimeSpan.FromTicks(node.GetValue<long>() / 100);
            return Core.Certificates.GoDuration.TryParse(node.GetValue<string>(), out var value, out var error)
                ? value : throw new ConsulHttpException(500, $"Invalid {name}: {error}");
        }
        int Number(string name, int fallback) => config.Get(name) is { } n
            ? (n.GetValueKind() == System.Text.Json.JsonValueKind.Number ? n.GetValue<int>() : int.TryParse(n.GetValue<string>(), out var v) ? v : throw new ConsulHttpException(500, $"Invalid {name}"))
            : fallback;
        var next = current with
        {
            Provider = AgentEndpoints.Str(body, "Provider") is { Length: > 0 } p ? p : current.Provider,
            LeafCertTTL = Duration("LeafCertTTL", current.LeafCertTTL),
            IntermediateCertTTL = Duration("IntermediateCertTTL", current.IntermediateCertTTL),
            RootCertTTL = Duration("RootCertTTL", current.RootCertTTL),
            PrivateKeyType = config.Get("PrivateKeyType")?.GetValue<string>() ?? current.PrivateKeyType,
            PrivateKeyBits = Number("PrivateKeyBits", current.PrivateKeyBits),
            CSRMaxPerSecond = Number("CSRMaxPerSecond", current.CSRMaxPerSecond),
            CSRMaxConcurrent = Number("CSRMaxConcurrent", current.CSRMaxConcurrent),
        };
        await r.Client.SetCaConfigurationAsync(next, r.Aborted);
        await r.EmptyAsync();
    }

    private static async Task AuthorizeAsync(ConsulRequest r)
    {
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        var request = new AuthorizeRequestDto
        {
            Target = AgentEndpoints.Str(body, "Target"),
            ClientCertURI = AgentEndpoints.Str(body, "ClientCertURI"),
            ClientCertSerial = AgentEndpoints.Str(body, "ClientCertSerial"),
            Namespace = r.Query("ns") ?? AgentEndpoints.Str(body, "Namespace"),
            Partition = AgentEndpoints.Str(body, "Partition"),
        };
        // Consul's order (agent/agent_endpoint.go): these two are the HTTP layer's own 400s.
        if (request.Target.Length == 0) throw new ConsulHttpException(400, "Target service must be specified");
        AuthorizeResultDto result;
        try
        {
            result = await r.Client.AuthorizeAsync(request, r.Aborted);
        }
        catch (MeridianValidationException e) when (e.Problems.Any(p => p.Message.StartsWith("ClientCertURI", StringComparison.Ordinal) || p.Message.StartsWith("Mismatched partitions", StringComparison.Ordinal)))
        {
            throw new ConsulHttpException(400, e.Problems.First(p => p.Message.StartsWith("ClientCertURI", StringComparison.Ordinal) || p.Message.StartsWith("Mismatched", StringComparison.Ordinal)).Message);
        }
        await r.JsonAsync(new { result.Authorized, result.Reason });
    }

    // Consul blocks until a *new* certificate exists (renewal, rotation) or the wait ends; the index is the
    // certificate's ModifyIndex. Only X-Consul-Index is sent.
    private static async Task LeafAsync(ConsulRequest r)
    {
        var service = AgentEndpoints.Route(r, "service");
        var client = r.Client;
        var (minIndex, wait) = r.Blocking();
        var cert = await client.GetCertificateAsync(service, null, null, r.Aborted);
        if (minIndex > 0 && LeafIndex(cert) <= minIndex)
        {
            // Answers the current certificate when the wait ends without a new one, as Consul answers a timeout.
            cert = await client.GetCertificateAsync(service, cert.SerialNumber, wait, r.Aborted);
        }
        var index = LeafIndex(cert);
        r.Http.Response.Headers["X-Consul-Index"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await r.JsonAsync(new
        {
            cert.SerialNumber,
            cert.CertPEM,
            cert.PrivateKeyPEM,
            cert.Service,
            cert.ServiceURI,
            cert.ValidAfter,
            cert.ValidBefore,
            CreateIndex = cert.CreateIndex > 0 ? cert.CreateIndex : index,
            ModifyIndex = index,
        });
    }

    /// <summary>
    /// The leaf's blocking index: its ModifyIndex, or else its serial number (serials only grow within a CA), so a
    /// renewed or re-issued certificate always answers another index than the one a client waits on.
    /// </summary>
    internal static ulong LeafIndex(IssuedCertificateDto cert)
    {
        if (cert.ModifyIndex > 0) return cert.ModifyIndex;
        var hex = cert.SerialNumber.Replace(":", "", StringComparison.Ordinal);
        if (hex.Length > 0 && hex.Length <= 16 && ulong.TryParse(hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var serial) && serial > 0)
            return serial;
        // A serial wider than 64 bits: its low 63 bits, still different for another certificate.
        return hex.Length > 16 && ulong.TryParse(hex[^16..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var low) ? Math.Max(low >> 1, 1) : 1;
    }
}
