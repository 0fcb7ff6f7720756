using System.Collections.Frozen;
using Meridian.Core.Identity;
using Meridian.Core.Validation;
using Meridian.Grains.Certificates;
using Microsoft.Extensions.Logging;
using Orleans.Metadata;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Refuses to create an activation whose key is not a valid name of this datacenter (<see cref="GrainKeyRules"/>):
/// before the grain instance exists, before its persistent state is read, so a bad key costs no storage read, no stored
/// row, no reminder and no activation (issue 12 §5). The caller gets <see cref="MeridianValidationException"/> naming the key.
/// </summary>
/// <remarks>
/// One table for every grain whose key a caller chooses, read once per grain type; grain classes carry nothing. Not
/// covered: grains keyed by another datacenter's name on purpose (a primary's inventory and replicator grains for its
/// secondaries). The CA grain is: a second CA under another key would be a second root of trust in the datacenter.
/// </remarks>
internal sealed partial class GrainKeyGuard(
    GrainClassMap classes, DatacenterContext datacenter, ILogger<GrainKeyGuard> logger) : IConfigureGrainContextProvider
{
    private static readonly FrozenDictionary<Type, GrainKeyRule> Rules = new Dictionary<Type, GrainKeyRule>
    {
        [typeof(IServiceCertificateGrain)] = GrainKeyRule.LocalService,
        [typeof(ICertificateAuthorityGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(IIntentionRegistryGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(IAuthorizerGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(IAclStoreGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(IPreparedQueryGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(ILeafSignerGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(ICsrLimiterGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(IIntentionGrain)] = GrainKeyRule.LocalPrefixed,
        [typeof(IIntentionCatalogGrain)] = GrainKeyRule.LocalPrefixed,
        [typeof(ICatalogGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(ICatalogDirectoryGrain)] = GrainKeyRule.LocalDatacenter,
        [typeof(ICatalogNodeGrain)] = GrainKeyRule.LocalPrefixed,
        [typeof(ICatalogServiceGrain)] = GrainKeyRule.LocalPrefixed,
        [typeof(ICatalogBucketGrain)] = GrainKeyRule.LocalPrefixed,
    }.ToFrozenDictionary();

    /// <summary>The rule for a grain class: that of the first listed interface it implements, or null.</summary>
    internal static (Type Contract, GrainKeyRule Rule)? RuleOf(Type grainClass)
    {
        foreach (var contract in grainClass.GetInterfaces())
            if (Rules.TryGetValue(contract, out var rule)) return (contract, rule);
        return null;
    }

    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, out IConfigureGrainContext configurator)
    {
        configurator = null!;
        if (!classes.TryGetGrainClass(grainType, out var grainClass) || RuleOf(grainClass) is not { } found) return false;
        configurator = new Check(found.Contract.Name, found.Rule, datacenter.Datacenter, logger);
        return true;
    }

    private sealed class Check(string grain, GrainKeyRule rule, string localDatacenter, ILogger logger) : IConfigureGrainContext
    {
        // Orleans configures a grain context as it creates it, before the grain instance exists and before its
        // lifecycle starts ([PersistentState] reads storage in SetupState): throwing here fails the creation, and the
        // caller gets this exception as the answer to its call. A stateless worker's context is refused the same way.
        public void Configure(IGrainContext context)
        {
            var key = context.GrainId.Key.ToString();
            var problems = GrainKeyRules.Validate(rule, grain, key, localDatacenter);
            if (problems.Count > 0) Refuse(grain, key, problems, logger);
        }
    }

    private static void Refuse(string grain, string key, IReadOnlyList<ValidationProblem> problems, ILogger logger)
    {
        LogRefused(logger, grain, ValidationText.Quote(key.Length <= 80 ? key : key[..80] + "…"));
        throw new MeridianValidationException([.. problems.Select(p => new ValidationProblemDto(p.Field, p.Code, p.Message))]);
    }

    [LoggerMessage(EventId = MeridianEventIds.GrainKeyRefused, Level = LogLevel.Warning,
        Message = "Refused to activate {Grain} under key {Key}: not a valid name in this datacenter")]
    private static partial void LogRefused(ILogger logger, string grain, string key);
}
