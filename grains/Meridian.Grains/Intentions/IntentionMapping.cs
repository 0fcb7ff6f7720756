using System.Collections.Immutable;
using Meridian.Core.Intentions;

namespace Meridian.Grains.Intentions;

/// <summary>DTO (wire, Consul field names) to Core (domain) mapping for intentions. No rules live here.</summary>
internal static class IntentionMapping
{
    public static string ActionText(IntentionAction action) => action switch
    {
        IntentionAction.Allow => "allow",
        IntentionAction.Deny => "deny",
        _ => "",
    };

    // Unknown text maps to Unset so that Core validation reports it with Consul's message.
    public static IntentionAction ParseAction(string? text) => text switch
    {
        "allow" => IntentionAction.Allow,
        "deny" => IntentionAction.Deny,
        _ => IntentionAction.Unset,
    };

    public static Intention ToCore(this IntentionDto d) => new()
    {
        ID = d.ID ?? "",
        Description = d.Description ?? "",
        SourceNS = d.SourceNS ?? "",
        SourceName = d.SourceName ?? "",
        DestinationNS = d.DestinationNS ?? "",
        DestinationName = d.DestinationName ?? "",
        SourcePartition = d.SourcePartition ?? "",
        DestinationPartition = d.DestinationPartition ?? "",
        SourceType = d.SourceType ?? "",
        Action = ParseAction(d.Action),
        Permissions = d.Permissions.IsDefault ? [] : [.. d.Permissions.Select(ToCore)],
        Meta = d.Meta ?? ImmutableDictionary<string, string>.Empty,
        SourceDatacenter = d.SourceDatacenter ?? "",
        DestinationDatacenter = d.DestinationDatacenter ?? "",
    };

    public static IntentionDto ToDto(this Intention i) => new()
    {
        ID = string.IsNullOrEmpty(i.ID) ? null : i.ID,
        Description = i.Description,
        SourceNS = i.SourceNS,
        SourceName = i.SourceName,
        DestinationNS = i.DestinationNS,
        DestinationName = i.DestinationName,
        SourcePartition = i.SourcePartition,
        DestinationPartition = i.DestinationPartition,
        SourceType = i.SourceType,
        Action = ActionText(i.Action),
        Permissions = [.. i.Permissions.Select(ToDto)],
        Meta = i.Meta.ToImmutableDictionary(),
        Precedence = i.Precedence,
        CreateIndex = i.CreateIndex,
        ModifyIndex = i.ModifyIndex,
        SourceDatacenter = i.SourceDatacenter,
        DestinationDatacenter = i.DestinationDatacenter,
    };

    public static ServiceIntentionsEntry ToCore(this IntentionEntryDto d) => new()
    {
        Name = d.Name,
        Namespace = d.Namespace,
        Partition = d.Partition,
        Sources = d.Sources.IsDefault ? [] : [.. d.Sources.Select(ToCore)],
        Meta = d.Meta ?? ImmutableDictionary<string, string>.Empty,
        CreateIndex = d.CreateIndex,
        ModifyIndex = d.ModifyIndex,
    };

    public static IntentionEntryDto ToDto(this ServiceIntentionsEntry e) => new()
    {
        Name = e.Name,
        Namespace = e.Namespace,
        Partition = e.Partition,
        Sources = [.. e.Sources.Select(ToDto)],
        Meta = e.Meta.ToImmutableDictionary(),
        CreateIndex = e.CreateIndex,
        ModifyIndex = e.ModifyIndex,
    };

    private static SourceIntention ToCore(SourceIntentionDto s) => new()
    {
        Name = s.Name,
        Namespace = s.Namespace,
        Partition = s.Partition,
        SourceDatacenter = s.SourceDatacenter,
        DestinationDatacenter = s.DestinationDatacenter,
        Action = ParseAction(s.Action),
        Permissions = s.Permissions.IsDefault ? [] : [.. s.Permissions.Select(ToCore)],
        Precedence = s.Precedence,
        Type = s.Type,
        Description = s.Description,
    };

    private static SourceIntentionDto ToDto(SourceIntention s) => new()
    {
        Name = s.Name,
        Namespace = s.Namespace,
        Partition = s.Partition,
        SourceDatacenter = s.SourceDatacenter,
        DestinationDatacenter = s.DestinationDatacenter,
        Action = ActionText(s.Action),
        Permissions = [.. s.Permissions.Select(ToDto)],
        Precedence = s.Precedence,
        Type = s.Type,
        Description = s.Description,
    };

    private static IntentionPermission ToCore(IntentionPermissionDto p) => new()
    {
        Action = ParseAction(p.Action),
        HTTP = p.HTTP is null ? null : new IntentionHttpPermission
        {
            PathExact = p.HTTP.PathExact,
            PathPrefix = p.HTTP.PathPrefix,
            PathRegex = p.HTTP.PathRegex,
            Methods = p.HTTP.Methods.IsDefault ? [] : p.HTTP.Methods,
            Header = p.HTTP.Header.IsDefault ? [] : [.. p.HTTP.Header.Select(h => new IntentionHttpHeaderPermission
            {
                Name = h.Name, Present = h.Present, Exact = h.Exact, Prefix = h.Prefix, Suffix = h.Suffix,
                Contains = h.Contains, Regex = h.Regex, Invert = h.Invert, IgnoreCase = h.IgnoreCase,
            })],
        },
    };

    private static IntentionPermissionDto ToDto(IntentionPermission p) => new()
    {
        Action = ActionText(p.Action),
        HTTP = p.HTTP is null ? null : new IntentionHttpDto
        {
            PathExact = p.HTTP.PathExact,
            PathPrefix = p.HTTP.PathPrefix,
            PathRegex = p.HTTP.PathRegex,
            Methods = p.HTTP.Methods,
            Header = [.. p.HTTP.Header.Select(h => new IntentionHttpHeaderDto
            {
                Name = h.Name, Present = h.Present, Exact = h.Exact, Prefix = h.Prefix, Suffix = h.Suffix,
                Contains = h.Contains, Regex = h.Regex, Invert = h.Invert, IgnoreCase = h.IgnoreCase,
            })],
        },
    };
}
