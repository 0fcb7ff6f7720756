using System.Globalization;
using System.Net;
using System.Text;
using Meridian.Grains;

namespace Meridian.Silo;

/// <summary>
/// Renders the read-only Meridian dashboard page on the server: plain HTML, no script, so it shows the same in any
/// browser (and in a headless one) and cannot post anything back.
/// </summary>
internal static class MeridianPage
{
    private const string Style = """
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f4f6f9;color:#1d232a}
        header{background:#1f2d3d;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}header a{color:#9cc3ff}
        main{padding:16px 24px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(520px,1fr))}
        section{min-width:0;overflow-x:auto;background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:12px 16px}
        h2{font-size:16px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e7ec;vertical-align:top;overflow-wrap:anywhere}th{color:#5b6773;font-weight:600;white-space:nowrap;overflow-wrap:normal}
        .ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.muted{color:#5b6773}.wide{grid-column:1/-1}
        </style>
        """;

    /// <summary>The page; links to the dashboard's Grain Details only when <paramref name="grainDetails"/> (it is off otherwise).</summary>
    public static string Render(DatacenterOverviewDto overview, bool grainDetails)
    {
        var s = overview.Status;
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
            <title>Meridian {E(s.Datacenter)}</title>
            {Style}</head><body>
            <header><h1>Meridian datacenter {E(s.Datacenter)}</h1>
            <span>{E(s.Role)}{(s.Role == "secondary" ? $" of {E(s.PrimaryDatacenter)}" : "")} &middot; trust domain {E(s.TrustDomain)} &middot;
            <a href="./">Orleans dashboard</a> &middot; <a href="meridian/overview">JSON</a>{(grainDetails ? $" &middot;\n<a href=\"{E(MeridianDashboard.GrainDetailsLink("Meridian.Grains.DatacenterGrain", s.Datacenter))}\">Grain Details</a>" : "")}</span></header>
            <main>
            """);

        Section(html, "Datacenter", [
            ["Datacenter", E(s.Datacenter)],
            ["Role", E(s.Role)],
            ["Primary", E(s.PrimaryDatacenter)],
            ["Trust domain", E(s.TrustDomain)],
            ["Storage", E(s.StorageProvider)],
            ["Health", s.Degraded.Length == 0 ? "<span class=\"ok\">healthy</span>" : $"<span class=\"bad\">degraded: {E(s.Degraded)}</span>"],
        ]);

        var ca = s.Ca;
        var progress = overview.Certificates.Progress;
        Section(html, "Certificate authority", [
            ["State", E(ca.State) + (ca.Degraded.Length == 0 ? "" : $" <span class=\"bad\">degraded: {E(ca.Degraded)}</span>")],
            ["Active root", E(ca.ActiveRootID)],
            ["Active root expiry", E(MeridianDashboard.Time(ca.ActiveRootExpiry))],
            ["Signing CA expiry", E(MeridianDashboard.Time(ca.SigningCaExpiry))],
            ["Signing key ID", E(ca.SigningKeyID)],
            ["Rotation progress", $"{progress.OnActiveRoot} of {progress.Total} certificates on the active root"],
        ]);

        html.Append("<section class=\"wide\"><h2>Replication</h2>");
        var replication = s.ReplicationStatuses();
        if (replication.Count == 0)
        {
            html.Append("<p class=\"muted\">This is the primary datacenter: it replicates from no one.</p>");
        }
        else
        {
            Table(html, ["Stream", "From", "Running", "Replicated index", "Primary index", "Lag", "Epoch", "Last success", "Last error"],
                replication.Select(r => new[]
                {
                    E(r.ReplicationType), E(r.SourceDatacenter), r.Running ? "yes" : "no", N(r.ReplicatedIndex), N(r.PrimaryIndex), N(r.Lag),
                    r.PrimaryEpoch.Length == 0 ? "<span class=\"muted\">-</span>" : E(r.PrimaryEpoch),
                    E(MeridianDashboard.Time(r.LastSuccess)),
                    r.LastError > r.LastSuccess ? $"<span class=\"bad\">{E(MeridianDashboard.Time(r.LastError))}: {E(r.LastErrorMessage)}</span>"
                        : r.LastErrorMessage.Length == 0 ? "none" : $"{E(MeridianDashboard.Time(r.LastError))} (since recovered): {E(r.LastErrorMessage)}",
                }));
        }
        html.Append("</section>");

        html.Append(CultureInfo.InvariantCulture, $"<section class=\"wide\"><h2>CA roots (index {N(overview.Roots.Index)})</h2>");
        Table(html, ["ID", "Name", "Active", "Not before", "Not after", "Rotated out"], overview.Roots.Roots.Select(r => new[]
        {
            E(r.ID), E(r.Name), r.Active ? "<span class=\"ok\">active</span>" : "no", E(MeridianDashboard.Time(r.NotBefore)),
            E(MeridianDashboard.Time(r.NotAfter)), r.RotatedOutAt is null ? "-" : E(MeridianDashboard.Time(r.RotatedOutAt)),
        }));
        html.Append("</section>");

        html.Append(CultureInfo.InvariantCulture,
            $"<section><h2>Intentions (index {N(overview.Intentions.Index)}, {overview.Intentions.Intentions.Length} intentions)</h2>");
        Table(html, ["Source", "Destination", "Action", "Precedence", "Description"], overview.Intentions.Intentions.Select(i => new[]
        {
            E(i.SourceName), E(i.DestinationName),
            i.Action.Length > 0 ? E(i.Action) : $"L7 ({i.Permissions.Length} permissions)",
            i.Precedence.ToString(CultureInfo.InvariantCulture), E(i.Description),
        }));
        html.Append("</section>");

        html.Append("<section class=\"wide\"><h2>Certificate inventory</h2>");
        Table(html, ["Service", "Root", "On active root", ""], overview.Certificates.Certificates.Select(c => new[]
        {
            E(c.Service), E(c.RootID), c.OnActiveRoot ? "<span class=\"ok\">yes</span>" : "<span class=\"bad\">no</span>",
            grainDetails ? $"<a href=\"{E(MeridianDashboard.GrainDetailsLink("Meridian.Grains.Certificates.ServiceCertificateGrain", $"{s.Datacenter}/{c.Service}"))}\">details</a>" : "",
        }));
        html.Append("</section></main></body></html>");
        return html.ToString();
    }

    private static void Section(StringBuilder html, string title, string[][] rows)
    {
        html.Append(CultureInfo.InvariantCulture, $"<section><h2>{E(title)}</h2><table>");
        foreach (var row in rows) html.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(row[0])}</th><td>{row[1]}</td></tr>");
        html.Append("</table></section>");
    }

    // Cells arrive already encoded (some carry markup); an empty table says so instead of showing nothing.
    private static void Table(StringBuilder html, string[] headers, IEnumerable<string[]> rows)
    {
        var body = string.Concat(rows.Select(r => "<tr>" + string.Concat(r.Select(c => $"<td>{c}</td>")) + "</tr>"));
        if (body.Length == 0)
        {
            html.Append("<p class=\"muted\">none</p>");
            return;
        }
        html.Append("<table><tr>").Append(string.Concat(headers.Select(h => $"<th>{E(h)}</th>"))).Append("</tr>").Append(body).Append("</table>");
    }

    private static string E(string value) => WebUtility.HtmlEncode(value);

    private static string N(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
