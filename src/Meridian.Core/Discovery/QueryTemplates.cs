using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Meridian.Core.Discovery;

/// <summary>
/// Prepared query templates (Consul's <c>agent/consul/prepared_query/template.go</c>;
/// https://developer.hashicorp.com/consul/api-docs/query#prepared-query-templates): a <c>name_prefix_match</c>
/// template answers every name starting with its <see cref="PreparedQuery.Name"/>, and its service texts are
/// interpolated for the name executed.
/// </summary>
/// <remarks>
/// The interpolation language is the subset of HIL Consul's documentation uses: <c>${name.full}</c>,
/// <c>${name.prefix}</c>, <c>${name.suffix}</c>, <c>${agent.segment}</c> (always empty: Meridian has no network
/// segments), <c>${match(N)}</c> (capture N of <see cref="QueryTemplate.Regexp"/>, empty when it does not exist), and
/// <c>$${</c> for a literal <c>${</c>. The regexp runs without backtracking (.NET's NonBacktracking engine: linear time,
/// like Go's RE2, and it likewise refuses backreferences and lookarounds); its error texts are .NET's, not Go's.
/// </remarks>
public sealed class QueryTemplates
{
    private readonly PreparedQuery _query;
    private readonly Regex? _regex;

    private QueryTemplates(PreparedQuery query, Regex? regex)
    {
        _query = query;
        _regex = regex;
    }

    /// <summary>
    /// Compiles <paramref name="query"/>'s template; on failure <paramref name="error"/> holds Consul's text
    /// (<c>Bad Template.Type 'x'</c>, <c>Bad Regexp: …</c>, or the bad interpolation) and <paramref name="field"/> the field.
    /// </summary>
    public static bool TryCompile(PreparedQuery query, [NotNullWhen(true)] out QueryTemplates? compiled, out string field, out string error)
    {
        compiled = null;
        field = "";
        error = "";
        if (query.Template.Type != PreparedQueryRules.NamePrefixMatch)
        {
            (field, error) = ("Template.Type", $"Bad Template.Type '{query.Template.Type}'");
            return false;
        }
        Regex? regex = null;
        if (query.Template.Regexp.Length > 0)
        {
            try
            {
                regex = new Regex(query.Template.Regexp, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException)
            {
                (field, error) = ("Template.Regexp", "Bad Regexp: " + e.Message);
                return false;
            }
        }
        foreach (var (path, text) in Texts(query.Service))
        {
            if (TryInterpolate(text, _ => "", _ => "", out _, out var problem)) continue;
            (field, error) = ($"Service.{path}", $"Bad format '{text}' in Service.{path}: {problem}");
            return false;
        }
        compiled = new QueryTemplates(query, regex);
        return true;
    }

    /// <summary>The query as executed for <paramref name="name"/> (see <see cref="PreparedQueryRules.Render"/>).</summary>
    public PreparedQuery Render(string name)
    {
        var matches = _regex?.Match(name) is { Success: true } m ? m.Groups.Cast<Group>().Select(g => g.Value).ToArray() : [];
        var prefix = _query.Name;
        var suffix = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name; // Go's TrimPrefix
        string Variable(string v) => v switch
        {
            "name.full" => name,
            "name.prefix" => prefix,
            "name.suffix" => suffix,
            _ => "", // agent.segment
        };
        string Match(int i) => i >= 0 && i < matches.Length ? matches[i] : "";
        string I(string text) => TryInterpolate(text, Variable, Match, out var r, out _) ? r : text;

        var s = _query.Service;
        var tags = s.Tags.IsDefault ? [] : s.Tags.Select(I).ToImmutableArray();
        if (_query.Template.RemoveEmptyTags) tags = [.. tags.Where(t => t.Length > 0)];
        var rendered = s with
        {
            Service = I(s.Service),
            Near = I(s.Near),
            Tags = tags,
            Failover = s.Failover with
            {
                Datacenters = s.Failover.Datacenters.IsDefault ? [] : [.. s.Failover.Datacenters.Select(I)],
                Targets = s.Failover.Targets.IsDefault ? [] : [.. s.Failover.Targets.Select(t => t with { Datacenter = I(t.Datacenter) })],
            },
            NodeMeta = s.NodeMeta.ToImmutableDictionary(p => p.Key, p => I(p.Value)),
            ServiceMeta = s.ServiceMeta.ToImmutableDictionary(p => p.Key, p => I(p.Value)),
            IgnoreCheckIds = s.IgnoreCheckIds.IsDefault ? [] : [.. s.IgnoreCheckIds.Select(I)],
        };
        return _query with { Service = rendered };
    }

    // Every interpolated text of the service part, with its path (the peer is never interpolated, as Consul).
    private static IEnumerable<(string Path, string Text)> Texts(ServiceQuery s)
    {
        yield return ("Service", s.Service);
        yield return ("Near", s.Near);
        foreach (var (t, i) in s.Tags.Select((t, i) => (t, i))) yield return ($"Tags[{i}]", t);
        foreach (var (d, i) in s.Failover.Datacenters.Select((d, i) => (d, i))) yield return ($"Failover.Datacenters[{i}]", d);
        foreach (var (d, i) in s.Failover.Targets.Select((t, i) => (t.Datacenter, i))) yield return ($"Failover.Targets[{i}].Datacenter", d);
        foreach (var p in s.NodeMeta) yield return ($"NodeMeta[{p.Key}]", p.Value);
        foreach (var p in s.ServiceMeta) yield return ($"ServiceMeta[{p.Key}]", p.Value);
        foreach (var (c, i) in s.IgnoreCheckIds.Select((c, i) => (c, i))) yield return ($"IgnoreCheckIDs[{i}]", c);
    }

    /// <summary>Interpolates <paramref name="text"/>; false with the reason for a bad expression.</summary>
    internal static bool TryInterpolate(string text, Func<string, string> variable, Func<int, string> match, out string result, out string problem)
    {
        var sb = new StringBuilder(text.Length);
        problem = "";
        result = text;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 2 < text.Length && text[i + 1] == '$' && text[i + 2] == '{')
            {
                sb.Append("${");
                i += 2;
                continue;
            }
            if (text[i] != '$' || i + 1 >= text.Length || text[i + 1] != '{')
            {
                sb.Append(text[i]);
                continue;
            }
            var end = text.IndexOf('}', i + 2);
            if (end < 0)
            {
                problem = $"unclosed '${{' at position {i}";
                return false;
            }
            var expression = text[(i + 2)..end].Trim();
            if (expression is "name.full" or "name.prefix" or "name.suffix" or "agent.segment")
                sb.Append(variable(expression));
            else if (expression.StartsWith("match(", StringComparison.Ordinal) && expression.EndsWith(')')
                && int.TryParse(expression.AsSpan(6, expression.Length - 7).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                sb.Append(match(n));
            else
            {
                problem = $"unknown expression '{expression}'; use name.full, name.prefix, name.suffix, agent.segment or match(N)";
                return false;
            }
            i = end;
        }
        result = sb.ToString();
        return true;
    }
}
