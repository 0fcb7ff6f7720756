using System.Collections.Immutable;
using System.Reflection;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Hosting;

namespace Meridian.Grains.Tests.Acl;

/// <summary>
/// Every public and federation method declares what it requires of the caller's token (docs/acl.md), and the
/// declarations are well-formed: the names they read exist. docs/acl.md's table is the table the silo enforces.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AclDeclarationTests
{
    private static readonly Assembly Contracts = typeof(Surface).Assembly;

    [Fact]
    public void ContractMethods_EveryPublicAndFederationMethod_DeclaresItsAcl()
    {
        var enforced = AclMethodTable.Enforced(Contracts).ToList();
        Assert.True(enforced.Count >= 20, $"found only {enforced.Count} public/federation methods: is the scan wrong?");
        var problems = new List<string>();
        foreach (var method in enforced) AclMethodTable.Compile(method, problems);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(enforced.Count, AclMethodTable.Methods.Count);
    }

    [Fact]
    public void ClusterInternalMethods_DeclareNoAcl()
    {
        // A declaration there would say something the filter never checks (internal calls are not re-checked).
        var declared = typeof(IDatacenterGrain).Assembly.GetExportedTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods())
            .Where(m => GrainSurfaceAttribute.Of(m) == Surface.ClusterInternal
                && (m.GetCustomAttribute<AclAttribute>() ?? (object?)m.GetCustomAttribute<AclNoneAttribute>()) is not null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}");
        Assert.Empty(declared);
    }

    public static TheoryData<string, string> BadDeclarations() => new()
    {
        { nameof(IAclProbe.Undeclared), "declares no ACL requirement" },
        { nameof(IAclProbe.UnknownParameter), "Name \"servic\" names no parameter (parameters: service)" },
        { nameof(IAclProbe.UnknownProperty), "Name \"request.Targt\": AuthorizeRequestDto has no property Targt" },
        { nameof(IAclProbe.NotAString), "Name \"count\" is a Int32, not a string or a list of strings" },
        { nameof(IAclProbe.ServiceWithoutName), "Service needs a Name" },
        { nameof(IAclProbe.OperatorWithName), "a Name is meaningless for Operator" },
        { nameof(IAclProbe.Both), "declares both [Acl] and [AclNone]" },
        { nameof(IAclIntegerProbe.KeyOfIntegerGrain), "needs a string-keyed grain" },
    };

    [Theory]
    [MemberData(nameof(BadDeclarations))]
    public void Compile_BadDeclaration_NamesTheMethodAndTheFix(string method, string expected)
    {
        var info = (method == nameof(IAclIntegerProbe.KeyOfIntegerGrain) ? typeof(IAclIntegerProbe) : typeof(IAclProbe)).GetMethod(method)!;
        var problems = new List<string>();

        Assert.Null(AclMethodTable.Compile(info, problems));
        var problem = Assert.Single(problems);
        Assert.Contains(method, problem);
        Assert.Contains(expected, problem);
    }

    [Fact]
    public void Build_ContractsWithABadDeclaration_RefusesToBuild()
    {
        // The probes are public surface in this assembly: the table of a contract assembly with one bad method fails whole.
        var ex = Assert.Throws<InvalidOperationException>(() => AclMethodTable.Build(typeof(IAclProbe).Assembly));
        Assert.Contains("IAclProbe.Undeclared", ex.Message);
    }

    [Fact]
    public void Readers_ReadParameterPropertyKeyAndLists()
    {
        var authorize = AclMethodTable.Methods[typeof(IAuthorizerGrain).GetMethod(nameof(IAuthorizerGrain.AuthorizeAsync))!];
        Assert.Equal((AclResource.Service, AclAccess.Write), (authorize.Resource, authorize.Access));
        Assert.Equal("service:write on request.Target", authorize.Text);
        var match = AclMethodTable.Methods[typeof(IIntentionRegistryGrain).GetMethod(nameof(IIntentionRegistryGrain.MatchAsync))!];
        Assert.Equal("intention:read on names", match.Text);
        var list = AclMethodTable.Methods[typeof(IIntentionRegistryGrain).GetMethod(nameof(IIntentionRegistryGrain.ListAsync))!];
        Assert.True(list.Filtered);
    }

    [Theory]
    [InlineData("web", "web")]
    [InlineData("default/web", "web")]
    [InlineData("dc1/web", "web")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void NameOf_NamespacedOrKeyed_ChecksTheName(string? value, string expected) => Assert.Equal(expected, AclMethodTable.NameOf(value));

    [Fact]
    public void NamesOf_Lists_EachName_DefaultArrayNone()
    {
        Assert.Equal(["a", "b"], AclMethodTable.NamesOf(ImmutableArray.Create("ns/a", "b")));
        Assert.Empty(AclMethodTable.NamesOf(default(ImmutableArray<string>)));
        Assert.Equal([""], AclMethodTable.NamesOf(null));
    }

    [Fact]
    public void Docs_AclTable_IsTheEnforcedTable()
    {
        var expected = string.Join('\n', ["| Method | Surface | Requires |", "|---|---|---|",
            .. AclMethodTable.Methods
                .Select(p => (Method: p.Key, Requirement: p.Value))
                .OrderBy(x => x.Method.DeclaringType!.Name, StringComparer.Ordinal).ThenBy(x => x.Method.Name, StringComparer.Ordinal)
                .ThenBy(x => string.Join(',', x.Method.GetParameters().Select(p => p.Name)), StringComparer.Ordinal)
                .Select(x => $"| `{x.Requirement.Operation}({string.Join(", ", x.Method.GetParameters().Where(p => p.ParameterType != typeof(CancellationToken)).Select(p => p.Name))})` | {GrainSurfaceAttribute.Of(x.Method)} | {x.Requirement.Text} |")]);
        GeneratedDocs.AssertBlock(Path.Combine("docs", "acl.md"), "acl-methods", nameof(AclDeclarationTests), expected);
    }
}

/// <summary>Bad declarations, for the checks (public so that <see cref="AclMethodTable.Build"/> scans it).</summary>
[GrainSurface(Surface.Public), Alias("meridian.tests.IAclProbe")]
public interface IAclProbe : IGrainWithStringKey
{
    [Alias("Undeclared")]
    Task Undeclared();

    [Acl(AclTarget.Service, AclLevel.Write, Name = "servic")]
    [Alias("UnknownParameter")]
    Task UnknownParameter(string service);

    [Acl(AclTarget.Service, AclLevel.Write, Name = "request.Targt")]
    [Alias("UnknownProperty")]
    Task UnknownProperty(AuthorizeRequestDto request);

    [Acl(AclTarget.Service, AclLevel.Write, Name = "count")]
    [Alias("NotAString")]
    Task NotAString(int count);

    [Acl(AclTarget.Service, AclLevel.Write)]
    [Alias("ServiceWithoutName")]
    Task ServiceWithoutName();

    [Acl(AclTarget.Operator, AclLevel.Write, Name = "service")]
    [Alias("OperatorWithName")]
    Task OperatorWithName(string service);

    [Acl(AclTarget.Operator, AclLevel.Write), AclNone("no")]
    [Alias("Both")]
    Task Both();
}

[GrainSurface(Surface.Public), Alias("meridian.tests.IAclIntegerProbe")]
public interface IAclIntegerProbe : IGrainWithIntegerKey
{
    [Acl(AclTarget.Service, AclLevel.Write, Name = AclAttribute.GrainKeyService)]
    [Alias("KeyOfIntegerGrain")]
    Task KeyOfIntegerGrain();
}
