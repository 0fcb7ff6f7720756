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
    [Theory]
    [InlineData("server.dc2.meridian")]
    [InlineData("server.dc1.meridian")]
    [InlineData("client.dc3.meridian")]
    [InlineData("SERVER.DC2.MERIDIAN")]
    public void CheckTransportNames_NamesAMemberOrThePrimary_Admitted(string name)
        => Assert.Null(Members.CheckTransportNames([name, "localhost"], "dc1", "meridian"));

    [Theory]
    [InlineData("server.dc9.meridian", "dc9 is not a member of the federation of primary datacenter dc1 (members: dc2, dc3)")]
    [InlineData("client.dc9.meridian", "dc9 is not a member")]
    [InlineData("server.dc2.other", "names no server.<dc>.meridian or client.<dc>.meridian")]
    [InlineData("server.a.dc2.meridian", "names no server.<dc>.meridian")]
    [InlineData("server.dc2.meridian.evil", "names no server.<dc>.meridian")]
    [InlineData("web.dc2.meridian", "names no server.<dc>.meridian")]
    public void CheckTransportNames_NoMemberNamed_RefusedSayingWhy(string name, string why)
    {
        var refusal = Members.CheckTransportNames([name], "dc1", "meridian");

        Assert.NotNull(refusal);
        Assert.Contains(why, refusal);
        Assert.Contains(name, refusal);
    }

    [Fact]
    public void CheckTransportNames_NoNamesAtAll_Refused()
        => Assert.Contains("no DNS name", Members.CheckTransportNames([], "dc1", "meridian"));
}
