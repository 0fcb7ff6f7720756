using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>What a grain's key must be, for the grains whose key a caller chooses (issue 12 §5).</summary>
public enum GrainKeyRule
{
    /// <summary>This datacenter's name (the CA, the registry, the authorizer, the leaf signer).</summary>
    LocalDatacenter,

    /// <summary><c>&lt;this datacenter&gt;/&lt;service&gt;</c> (<see cref="ServiceKey"/>): a service certificate.</summary>
    LocalService,

    /// <summary><c>&lt;this datacenter&gt;/&lt;rest&gt;</c>: a grain the registry addresses by a key of its own (entries, catalog buckets).</summary>
    LocalPrefixed,
}

/// <summary>
/// Checks a grain key before the grain activates: a key that is not a valid name of this datacenter gets no activation,
/// no stored state and no reminder. Without it, <c>IIntentionRegistryGrain("x")</c> activated a second registry of
/// the datacenter (with its own stored index beside the real one), and <c>IServiceCertificateGrain("dc2/web")</c> in
/// dc1 would have signed dc2's identity with dc1's CA.
/// </summary>
public static class GrainKeyRules
{
    /// <summary>
    /// Every problem with <paramref name="key"/> under <paramref name="rule"/> in the datacenter
    /// <paramref name="localDatacenter"/> (empty when valid), in the field <see cref="FieldOf"/>; the message names the grain.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(GrainKeyRule rule, string grain, string? key, string localDatacenter)
    {
        var field = FieldOf(rule);
        if (InputLimits.CheckBytes(field, key, InputLimits.MaxGrainKeyLength) is { } tooLong) return [tooLong];
        switch (rule)
        {
            case GrainKeyRule.LocalDatacenter:
                if (DatacenterName.Check(field, key) is { } dc) return [dc];
                return key == localDatacenter ? [] : [NotLocal(field, grain, key!, localDatacenter)];
            case GrainKeyRule.LocalService:
                var problems = ServiceKey.Validate(key, field);
                if (problems.Count > 0) return problems;
                return key![..key!.IndexOf(ServiceKey.Separator)] == localDatacenter ? [] : [NotLocal(field, grain, key, localDatacenter)];
            case GrainKeyRule.LocalPrefixed:
                var prefix = localDatacenter + ServiceKey.Separator;
                if (key is null || !key.StartsWith(prefix, StringComparison.Ordinal) || key.Length == prefix.Length)
                    return [new(field, ValidationCodes.InvalidFormat,
                        $"{grain} key {ValidationText.Quote(key ?? "")} must have the form {localDatacenter}/<name>")];
                return ValidationText.Check(field, key) is { } control ? [control] : [];
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, null);
        }
    }

    /// <summary>
    /// The field problems are reported in: <c>service</c> for a service certificate's key (its service part is
    /// <c>service.Service</c>: what the SDK's <c>service</c> argument and the CLI's <c>--service</c> fill), else <c>key</c>.
    /// </summary>
    public static string FieldOf(GrainKeyRule rule) => rule == GrainKeyRule.LocalService ? "service" : "key";

    private static ValidationProblem NotLocal(string field, string grain, string key, string localDatacenter) =>
        new(field, ValidationCodes.InvalidValue,
            $"{grain} key {ValidationText.Quote(key)} is not in this datacenter: this cluster serves {localDatacenter}");
}
