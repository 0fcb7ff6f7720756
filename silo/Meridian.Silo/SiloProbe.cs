using System.Net;
using System.Net.Http.Json;
using Meridian.Client;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// <c>Meridian.Silo probe live|ready|health</c>: asks this silo's own HTTP port and exits 0 (200) or 1, for a container
/// <c>HEALTHCHECK</c> (the ASP.NET image has no curl). It reads the silo's configuration (appsettings.json, environment,
/// command line), so it finds the port, and with <c>Meridian:Tls</c> speaks HTTPS, trusts only <c>CaFile</c> and
/// presents the silo's own certificate (which <c>VerifyIncoming</c> requires).
/// </summary>
internal static class SiloProbe
{
    public const string Command = "probe";

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 1 && !args[1].StartsWith('-') ? args[1] : "health";
        var path = which switch
        {
            "live" => SiloReadiness.LivePath,
            "ready" => SiloReadiness.ReadyPath,
            "health" => SiloHttpHost.HealthPath,
            _ => null,
        };
        if (path is null)
        {
            await Console.Error.WriteLineAsync($"meridian silo probe: \"{which}\" is not live, ready or health");
            return 2;
        }
        var config = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.Skip(which == args.ElementAtOrDefault(1) ? 2 : 1).ToArray())
            .Build();
        var endpoints = new EndpointOptions();
        config.GetSection(EndpointOptions.SectionName).Bind(endpoints);
        var tls = new TransportTlsOptions();
        config.GetSection(TransportTlsOptions.SectionName).Bind(tls);
        if (endpoints.HttpPort <= 0 || !IPAddress.TryParse(endpoints.Address, out var bind))
        {
            await Console.Error.WriteLineAsync("meridian silo probe: the silo serves no HTTP (Meridian:Endpoints:HttpPort) or its address does not parse");
            return 1;
        }
        var host = bind.Equals(IPAddress.Any) ? IPAddress.Loopback : bind.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : bind;
        using var handler = new HttpClientHandler();
        if (tls.Enabled)
        {
            var problems = MeridianTlsMaterial.TryLoad(TransportTlsOptions.SectionName + ":", tls.CaFile, tls.CertFile, tls.KeyFile, out var material);
            if (material is null)
            {
                foreach (var p in problems) await Console.Error.WriteLineAsync($"meridian silo probe: {p}");
                return 1;
            }
            // The silo's certificate names server.<dc>.<domain>, not the loopback address: the chain to CaFile decides.
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, _) => certificate is not null && material.Verify(certificate, chain, null);
            if (material.Certificate is { } own) handler.ClientCertificates.Add(own);
        }
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var url = $"{(tls.Enabled ? "https" : "http")}://{new IPEndPoint(host, endpoints.HttpPort)}{path}";
        try
        {
            using var response = await http.GetAsync(url);
            var report = await response.Content.ReadFromJsonAsync<SiloReadiness.Report>();
            Console.WriteLine($"{(int)response.StatusCode} {report?.Status} {report?.Reason}".TrimEnd());
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync($"meridian silo probe: {url}: {e.Message}");
            return 1;
        }
    }
}
