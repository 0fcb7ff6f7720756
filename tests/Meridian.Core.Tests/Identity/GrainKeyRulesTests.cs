using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Identity;

[Trait("Category", "Unit")]
public sealed class GrainKeyRulesTests
{
    public static TheoryData<GrainKeyRule, string?, string?, string?> Cases => new()
    {
        { GrainKeyRule.LocalDatacenter, "dc1", null, null },
        { GrainKeyRule.LocalDatacenter, "dc2", ValidationCodes.InvalidValue, "G key \"dc2\" is not in this datacenter: this cluster serves dc1" },
        { GrainKeyRule.LocalDatacenter, "", ValidationCodes.Required, "key must be set" },
        { GrainKeyRule.LocalDatacenter, "DC1", ValidationCodes.InvalidFormat, "key \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { GrainKeyRule.LocalDatacenter, new string('a', 300), ValidationCodes.TooLong, "key is 300 bytes; at most 256 are accepted" },
        { GrainKeyRule.LocalService, "dc1/web", null, null },
        { GrainKeyRule.LocalService, "dc2/web", ValidationCodes.InvalidValue, "G key \"dc2/web\" is not in this datacenter: this cluster serves dc1" },
        { GrainKeyRule.LocalService, "dc1/Web", ValidationCodes.InvalidFormat, "service.Service \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { GrainKeyRule.LocalService, "no-slash", ValidationCodes.InvalidFormat, "service \"no-slash\" must have the form <datacenter>/<service>" },
        { GrainKeyRule.LocalService, "dc1/" + new string('w', 300), ValidationCodes.TooLong, "service is 304 bytes; at most 256 are accepted" },
        { GrainKeyRule.LocalPrefixed, "dc1/default/default/db", null, null },
        { GrainKeyRule.LocalPrefixed, "dc1/00", null, null },
        { GrainKeyRule.LocalPrefixed, "dc1/", ValidationCodes.InvalidFormat, "G key \"dc1/\" must have the form dc1/<name>" },
        { GrainKeyRule.LocalPrefixed, "dc2/00", ValidationCodes.InvalidFormat, "G key \"dc2/00\" must have the form dc1/<name>" },
        { GrainKeyRule.LocalPrefixed, "dc1/a\u202eb", ValidationCodes.ControlCharacter,
            "key \"dc1/a\\u202eb\" contains the control character \"\\u202e\" at position 5; control and bidirectional-override characters are not allowed" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_Key_ReportsTheRuleItBreaks(GrainKeyRule rule, string? key, string? code, string? message)
    {
        var problems = GrainKeyRules.Validate(rule, "G", key, "dc1");
        if (code is null)
        {
            Assert.Empty(problems);
            return;
        }
        var problem = Assert.Single(problems);
        Assert.Equal(code, problem.Code);
        Assert.Equal(message, problem.Message);
        Assert.StartsWith(GrainKeyRules.FieldOf(rule), problem.Field);
    }
}
