using Meridian.Core.Federation;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Federation;

[Trait("Category", "Unit")]
public sealed class FederationMembersTests
{
    private static readonly FederationMembers Members = new(["dc2", "dc3"]);

    [Theory]
    [InlineData("dc2", null)]
    [InlineData("dc3", null)]
    [InlineData("dc9", ValidationCodes.NotFederationMember)]
    [InlineData("attacker", ValidationCodes.NotFederationMember)]
    [InlineData("dc1", ValidationCodes.OwnDatacenter)]
    [InlineData("", ValidationCodes.Required)]
    [InlineData(null, ValidationCodes.Required)]
    [InlineData("DC2", ValidationCodes.InvalidFormat)]
    [InlineData("dc2\n", ValidationCodes.InvalidFormat)]
    public void CheckRequester_Datacenter_RefusesWithCodeOrAccepts(string? requester, string? code)
    {
        var problems = Members.CheckRequester("datacenter", requester, "dc1");

        Assert.Equal(code is null ? [] : [code], problems.Select(p => p.Code));
        Assert.All(problems, p => Assert.Equal("datacenter", p.Field));
    }

    [Fact]
    public void CheckRequester_NonMember_NamesTheMembersAndTheOption()
    {
        var message = Assert.Single(Members.CheckRequester("datacenter", "dc9", "dc1")).Message;

        Assert.Contains("members: dc2, dc3", message);
        Assert.Contains(FederationMembers.OptionKey, message);
    }

    [Fact]
    public void CheckRequester_NoMembersConfigured_RefusesEveryone_AndSaysNoneAreListed()
    {
        var message = Assert.Single(FederationMembers.None.CheckRequester("datacenter", "dc2", "dc1")).Message;

        Assert.Contains("none are listed", message);
        Assert.Contains("Meridian:Federation:Datacenters", message);
    }

    [Theory]
    [InlineData(new string[0], new string[0])]
    [InlineData(new[] { "dc2", "dc3" }, new string[0])]
    [InlineData(new[] { "dc2", "dc2" }, new[] { "Meridian:Federation:Datacenters:1=duplicate" })]
    [InlineData(new[] { "dc1" }, new[] { "Meridian:Federation:Datacenters:0=own_datacenter" })]
    [InlineData(new[] { "dc2", "Bad Name", "" }, new[] { "Meridian:Federation:Datacenters:1=invalid_format", "Meridian:Federation:Datacenters:2=required" })]
    public void Validate_ConfiguredList_ReportsEveryProblemByIndex(string[] datacenters, string[] expected)
    {
        var problems = FederationMembers.Validate(datacenters, "dc1");

        Assert.Equal(expected, problems.Select(p => $"{p.Field}={p.Code}"));
    }
}
