using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace Meridian.Silo;

/// <summary>
/// How the silos of one datacenter decide that one of them is dead (Orleans' membership protocol,
/// <see cref="ClusterMembershipOptions"/>). Section <c>Meridian:Membership</c>. Unset keys keep Orleans' defaults, which
/// are the production values: a silo that stops answering (killed, its machine gone) is suspected after
/// <c>NumMissedProbesLimit</c> (3) missed probes of <c>ProbeTimeout</c> (5 s) each and declared dead on
/// <c>NumVotesForDeathDeclaration</c> (2) votes, about 15-20 s; until then calls to the grains it held fail (the SDK
/// retries them, <c>Meridian:Client:RetryTimeout</c>). A silo stopped with SIGTERM leaves at once. Shorter probes
/// notice a dead silo sooner but may declare a silo dead that is only slow (a long GC pause, a starved machine).
/// </summary>
public sealed class MembershipOptions
{
    public const string SectionName = "Meridian:Membership";

    /// <summary>Initial timeout of one liveness probe (Orleans' default 5 s).</summary>
    public TimeSpan? ProbeTimeout { get; set; }

    /// <summary>Missed probes before a silo is suspected (Orleans' default 3).</summary>
    public int? NumMissedProbesLimit { get; set; }

    /// <summary>Votes that declare a silo dead, at most the number of silos that probe it (Orleans' default 2).</summary>
    public int? NumVotesForDeathDeclaration { get; set; }

    /// <summary>How often the membership table is read again (Orleans' default 60 s).</summary>
    public TimeSpan? TableRefreshTimeout { get; set; }

    /// <summary>Reads and checks the section; every problem names its key.</summary>
    internal static MembershipOptions Read(IConfiguration config, List<string> problems)
    {
        var options = new MembershipOptions
        {
            ProbeTimeout = ConfigValues.ReadOptional<TimeSpan>(config, $"{SectionName}:{nameof(ProbeTimeout)}", problems),
            NumMissedProbesLimit = ConfigValues.ReadOptional<int>(config, $"{SectionName}:{nameof(NumMissedProbesLimit)}", problems),
            NumVotesForDeathDeclaration = ConfigValues.ReadOptional<int>(config, $"{SectionName}:{nameof(NumVotesForDeathDeclaration)}", problems),
            TableRefreshTimeout = ConfigValues.ReadOptional<TimeSpan>(config, $"{SectionName}:{nameof(TableRefreshTimeout)}", problems),
        };
        if (options.ProbeTimeout <= TimeSpan.Zero) problems.Add($"{SectionName}:ProbeTimeout must be positive, e.g. 00:00:05");
        if (options.NumMissedProbesLimit < 1) problems.Add($"{SectionName}:NumMissedProbesLimit must be at least 1, e.g. 3");
        if (options.NumVotesForDeathDeclaration < 1) problems.Add($"{SectionName}:NumVotesForDeathDeclaration must be at least 1, e.g. 2");
        if (options.TableRefreshTimeout <= TimeSpan.Zero) problems.Add($"{SectionName}:TableRefreshTimeout must be positive, e.g. 00:01:00");
        return options;
    }

    /// <summary>Sets what was configured on Orleans' options.</summary>
    internal void ApplyTo(ClusterMembershipOptions o)
    {
        if (ProbeTimeout is { } probe) o.ProbeTimeout = probe;
        if (NumMissedProbesLimit is { } missed) o.NumMissedProbesLimit = missed;
        if (NumVotesForDeathDeclaration is { } votes) o.NumVotesForDeathDeclaration = votes;
        if (TableRefreshTimeout is { } refresh) o.TableRefreshTimeout = refresh;
    }
}
