using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Identity;

[Trait("Category", "Unit")]
public sealed class ServiceKeyTests
{
    [Theory]
    [InlineData("dc1/web", "dc1", "web")]
    [InlineData("us-east_1/billing-api_v2", "us-east_1", "billing-api_v2")]
    public void Parse_ValidKey_SplitsDatacenterAndService(string text, string dc, string service)
    {
        var key = ServiceKey.Parse(text);
        Assert.Equal(dc, key.Datacenter.Value);
        Assert.Equal(service, key.Service.Value);
        Assert.Equal(text, key.ToString());
        Assert.True(ServiceKey.TryParse(text, out var again));
        Assert.Equal(key, again);
    }

    [Fact]
    public void ToString_Constructed_IsDatacenterSlashService()
        => Assert.Equal("dc2/db", new ServiceKey(DatacenterName.Parse("dc2"), ServiceName.Parse("db")).ToString());

    public static TheoryData<string?, ValidationProblem[]> InvalidKeys => new()
    {
        { null, [new("ServiceKey", "required", "ServiceKey must be set")] },
        { "", [new("ServiceKey", "required", "ServiceKey must be set")] },
        { "dc1", [new("ServiceKey", "invalid_format", "ServiceKey \"dc1\" must have the form <datacenter>/<service>")] },
        { "/web", [new("ServiceKey.Datacenter", "required", "ServiceKey.Datacenter must be set")] },
        { "dc1/", [new("ServiceKey.Service", "required", "ServiceKey.Service must be set")] },
        { "dc1/web/api", [new("ServiceKey.Service", "invalid_format",
            "ServiceKey.Service \"web/api\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)")] },
        { "DC1/Web", [
            new("ServiceKey.Datacenter", "invalid_format", "ServiceKey.Datacenter \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)"),
            new("ServiceKey.Service", "invalid_format", "ServiceKey.Service \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)")] },
        { "dc1/*", [new("ServiceKey.Service", "invalid_format",
            "ServiceKey.Service \"*\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)")] },
    };

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public void Parse_InvalidKey_ReportsEveryProblem(string? text, ValidationProblem[] expected)
    {
        Assert.Equal(expected, ServiceKey.Validate(text));
        var ex = Assert.Throws<DomainValidationException>(() => ServiceKey.Parse(text));
        Assert.Equal(expected, ex.Problems);
        Assert.False(ServiceKey.TryParse(text, out var key));
        Assert.Equal(default, key);
    }

    [Fact]
    public void ToSpiffeId_TrustDomain_BuildsDefaultNamespaceServiceId()
    {
        var id = ServiceKey.Parse("dc1/web").ToSpiffeId(new TrustDomain("abc"));
        Assert.Equal("spiffe://abc.consul/ns/default/dc/dc1/svc/web", id.Uri);
        Assert.True(new TrustDomain("abc").SigningId.CanSign(id));
    }

    [Theory]
    [InlineData("web", true)]
    [InlineData("a", true)]
    [InlineData("", false)]
    [InlineData("Web", false)]
    [InlineData("web.api", false)]
    [InlineData("*", false)]
    public void ServiceName_TryParse_AcceptsOnlyLowerCaseTokens(string value, bool ok)
        => Assert.Equal(ok, ServiceName.TryParse(value, out _));

    [Fact]
    public void ServiceName_TooLong_ReportsTooLong()
    {
        var problem = ServiceName.Check("Service", new string('a', 129));
        Assert.Equal(new ValidationProblem("Service", "too_long", "Service exceeds maximum length 128"), problem);
        Assert.Null(ServiceName.Check("Service", new string('a', 128)));
    }
}
