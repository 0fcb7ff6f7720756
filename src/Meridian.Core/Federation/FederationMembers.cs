using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Federation;

/// <summary>
/// The secondary datacenters the primary serves as federation members (option <see cref="OptionKey"/>): only these
/// may have an intermediate CA certificate signed or report rotation progress. Consul lets any server that reaches
/// the primary over its gossip/RPC mesh join (and so ask for an intermediate); Meridian has no such authenticated
/// mesh, so membership is written down by the operator. An empty list accepts no secondary.
/// </summary>
public sealed class FederationMembers
{
    /// <summary>The configuration key of the list.</summary>
    public const string OptionKey = "Meridian:Federation:Datacenters";

    private readonly HashSet<string> _datacenters;

    /// <summary>A federation with the given secondaries; names are not checked here (see <see cref="Validate"/>).</summary>
    public FederationMembers(IEnumerable<string> datacenters)
    {
        ArgumentNullException.ThrowIfNull(datacenters);
        _datacenters = new HashSet<string>(datacenters, StringComparer.Ordinal);
    }

    /// <summary>No secondaries: a primary that accepts no federation request.</summary>
    public static FederationMembers None { get; } = new([]);

    /// <summary>The member secondaries, sorted.</summary>
    public IReadOnlyList<string> Datacenters => [.. _datacenters.Order(StringComparer.Ordinal)];

    /// <summary>True when <paramref name="datacenter"/> is a member.</summary>
    public bool Contains(string datacenter) => _datacenters.Contains(datacenter);

    /// <summary>
    /// Problems with a configured list: every entry a valid datacenter name, none twice, and not the primary itself
    /// (a primary never asks itself to sign). Each problem names <c>&lt;key&gt;:&lt;index&gt;</c>.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(IReadOnlyList<string> datacenters, string primaryDatacenter, string key = OptionKey)
    {
        ArgumentNullException.ThrowIfNull(datacenters);
        List<ValidationProblem> problems = [];
        HashSet<string> seen = new(StringComparer.Ordinal);
        for (var i = 0; i < datacenters.Count; i++)
        {
            var field = $"{key}:{i}";
            if (DatacenterName.Check(field, datacenters[i]) is { } invalid) problems.Add(invalid);
            else if (datacenters[i] == primaryDatacenter)
                problems.Add(new(field, ValidationCodes.OwnDatacenter,
                    $"{field} \"{datacenters[i]}\" is the primary datacenter; list only its secondaries"));
            else if (!seen.Add(datacenters[i]))
                problems.Add(new(field, ValidationCodes.Duplicate, $"{field} \"{datacenters[i]}\" is listed more than once"));
        }
        return problems;
    }

    /// <summary>
    /// Why <paramref name="datacenter"/> may not make a federation request of <paramref name="primaryDatacenter"/>
    /// (empty when it may): not a valid name, the primary itself, or not a member. Problems name <paramref name="field"/>.
    /// </summary>
    public IReadOnlyList<ValidationProblem> CheckRequester(string field, string? datacenter, string primaryDatacenter)
    {
        if (DatacenterName.Check(field, datacenter) is { } invalid) return [invalid];
        if (datacenter == primaryDatacenter)
            return [new(field, ValidationCodes.OwnDatacenter,
                $"{field} \"{datacenter}\" is the primary datacenter itself; only a secondary asks the primary to sign its intermediate")];
        if (!Contains(datacenter!))
        {
            var members = _datacenters.Count == 0 ? "none are listed" : "members: " + string.Join(", ", Datacenters);
            return [new(field, ValidationCodes.NotFederationMember,
                $"{field} \"{datacenter}\" is not a member of the federation of primary datacenter {primaryDatacenter} ({members}); " +
                $"add it to {OptionKey} in the primary's configuration")];
        }
        return [];
    }
    /// <summary>
    /// Why a TLS peer whose certificate carries <paramref name="dnsNames"/> may not connect to the gateway of
    /// <paramref name="primaryDatacenter"/> (null when it may): with names checked, the primary admits only certificates
    /// that name a datacenter of its federation, Consul's <c>server.&lt;dc&gt;.&lt;domain&gt;</c> (a secondary's link) or
    /// <c>client.&lt;dc&gt;.&lt;domain&gt;</c> (an operator's CLI or SDK), for the primary itself or a member. A server
    /// certificate of any other datacenter, signed by the same transport CA, is refused before any grain call.
    /// </summary>
    public string? CheckTransportNames(IReadOnlyCollection<string> dnsNames, string primaryDatacenter, string domain)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        foreach (var name in dnsNames)
        {
            if (TransportDatacenter(name, domain) is { } dc && (dc == primaryDatacenter || Contains(dc))) return null;
        }
        var members = _datacenters.Count == 0 ? "none are listed" : "members: " + string.Join(", ", Datacenters);
        var named = dnsNames.Count == 0 ? "no DNS name" : string.Join(", ", dnsNames);
        var outsiders = dnsNames.Select(n => TransportDatacenter(n, domain)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var fix = outsiders.Count > 0
            ? $"{string.Join(", ", outsiders)} is not a member of the federation of primary datacenter {primaryDatacenter} ({members}); add it to {OptionKey} in the primary's configuration"
            : $"it names no server.<dc>.{domain} or client.<dc>.{domain} of the federation of primary datacenter {primaryDatacenter} ({members}); make one with `meridian tls cert create --server --dc <dc>` or `--client --dc <dc>`";
        return $"the certificate names {named}: {fix}";
    }

    // "server.dc2.meridian" / "client.dc2.meridian" -> "dc2" (case-insensitive, as DNS names are); otherwise null.
    private static string? TransportDatacenter(string name, string domain)
    {
        var suffix = "." + domain;
        if (!name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return null;
        var head = name[..^suffix.Length];
        foreach (var role in new[] { "server.", "client." })
        {
            if (head.StartsWith(role, StringComparison.OrdinalIgnoreCase) && head.Length > role.Length && !head[role.Length..].Contains('.'))
                return head[role.Length..].ToLowerInvariant();
        }
        return null;
    }
}
