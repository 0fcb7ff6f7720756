using System.Collections.Immutable;
using System.Collections.Frozen;
using System.Linq.Expressions;
using System.Reflection;
using Meridian.Core.Acl;
using Meridian.Grains.Hosting;
using Orleans.Serialization.Invocation;

namespace Meridian.Grains.Acl;

/// <summary>
/// What one public or federation method requires, compiled once from its <see cref="AclAttribute"/> or
/// <see cref="AclNoneAttribute"/> (docs/acl.md). Reading the name is a compiled delegate, not reflection per call.
/// </summary>
internal sealed class AclMethodRequirement
{
    /// <summary>The method as logs and docs name it: <c>IAuthorizerGrain.AuthorizeAsync</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>True for <see cref="AclNoneAttribute"/>: no token needed, nothing resolved.</summary>
    public bool None { get; init; }

    public AclResource Resource { get; init; }

    public AclAccess Access { get; init; }

    /// <summary>The answer is filtered per entry by the grain; the filter resolves the caller and refuses nothing.</summary>
    public bool Filtered { get; init; }

    /// <summary>Reads the name (a string or several) from the call; null for unnamed resources.</summary>
    public Func<IInvokable, GrainId, object?>? Name { get; init; }

    /// <summary>An alternative name: either grants.</summary>
    public Func<IInvokable, GrainId, object?>? OrName { get; init; }

    /// <summary>The declaration as docs/acl.md prints it: <c>intention:write on intention.DestinationName</c>.</summary>
    public required string Text { get; init; }
}

/// <summary>
/// The ACL requirement of every public and federation method of Meridian's grain contracts, built once per process
/// (the filter then does one dictionary lookup per call). Building fails, naming every bad method, when a method
/// declares nothing or names a parameter or property that does not exist: <c>AclDeclarationTests</c> fails, and a silo
/// with ACLs on fails every checked call rather than run one unchecked.
/// </summary>
internal static class AclMethodTable
{
    private static readonly Lazy<FrozenDictionary<MethodInfo, AclMethodRequirement>> Table = new(() => Build(typeof(Surface).Assembly));

    /// <summary>Every public and federation method of the contracts, by interface method.</summary>
    public static FrozenDictionary<MethodInfo, AclMethodRequirement> Methods => Table.Value;

    /// <summary>The public and federation methods of <paramref name="contracts"/>' grain interfaces.</summary>
    public static IEnumerable<MethodInfo> Enforced(Assembly contracts) =>
        contracts.GetExportedTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods())
            .Where(m => ClusterSealFilter.SurfaceOf(m, contracts) is Surface.Public or Surface.Federation);

    /// <summary>Builds the table, or throws <see cref="InvalidOperationException"/> listing every bad declaration.</summary>
    public static FrozenDictionary<MethodInfo, AclMethodRequirement> Build(Assembly contracts)
    {
        var problems = new List<string>();
        var table = new Dictionary<MethodInfo, AclMethodRequirement>();
        foreach (var method in Enforced(contracts))
        {
            if (Compile(method, problems) is { } requirement) table[method] = requirement;
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("ACL declarations (docs/acl.md): " + string.Join("; ", problems));
        return table.ToFrozenDictionary();
    }

    /// <summary>The method's requirement, adding to <paramref name="problems"/> what is wrong with its declaration.</summary>
    internal static AclMethodRequirement? Compile(MethodInfo method, List<string> problems)
    {
        var operation = $"{method.DeclaringType?.Name}.{method.Name}";
        var acl = method.GetCustomAttribute<AclAttribute>();
        var none = method.GetCustomAttribute<AclNoneAttribute>();
        if (acl is null && none is null)
        {
            problems.Add($"{operation} declares no ACL requirement: add [Acl(...)] or [AclNone(\"why\")]");
            return null;
        }
        if (acl is not null && none is not null)
        {
            problems.Add($"{operation} declares both [Acl] and [AclNone]");
            return null;
        }
        if (none is not null)
            return new AclMethodRequirement { Operation = operation, None = true, Text = "none: " + none.Reason };

        var resource = acl!.Target switch
        {
            AclTarget.Service => AclResource.Service,
            AclTarget.Intention => AclResource.Intention,
            AclTarget.Operator => AclResource.Operator,
            AclTarget.Acl => AclResource.Acl,
            AclTarget.Query => AclResource.Query,
            AclTarget.Node => AclResource.Node,
            _ => throw new InvalidOperationException($"{operation}: unknown ACL target {acl.Target}"),
        };
        var access = acl.Level == AclLevel.Write ? AclAccess.Write : AclAccess.Read;
        var named = resource is AclResource.Service or AclResource.Intention or AclResource.Query or AclResource.Node;
        var count = problems.Count;
        if (named && !acl.Filtered && acl.Name is null)
            problems.Add($"{operation}: {resource} needs a Name (a parameter, a property path or AclAttribute.GrainKeyService)");
        if ((!named || acl.Filtered) && (acl.Name ?? acl.OrName) is not null)
            problems.Add($"{operation}: a Name is meaningless for {(acl.Filtered ? "a filtered answer" : resource.ToString())}");
        var name = acl.Name is null ? null : Reader(method, acl.Name, operation, problems);
        var orName = acl.OrName is null ? null : Reader(method, acl.OrName, operation, problems);
        if (problems.Count > count) return null;

        var permission = $"{AclWords.Of(resource)}:{AclWords.Of(access)}";
        var text = acl.Filtered ? $"{permission}, per entry (filtered)"
            : acl.Name is null ? permission
            : $"{permission} on {Describe(acl.Name)}" + (acl.OrName is null ? "" : $" or {Describe(acl.OrName)}");
        return new AclMethodRequirement
        {
            Operation = operation, Resource = resource, Access = access, Filtered = acl.Filtered,
            Name = name, OrName = orName, Text = text,
        };
    }

    private static string Describe(string name) => name == AclAttribute.GrainKeyService ? "the service of the grain key" : name;

    // A parameter, or a property path into one (`request.Target`), ending in a string or a sequence of strings.
    private static Func<IInvokable, GrainId, object?>? Reader(MethodInfo method, string path, string operation, List<string> problems)
    {
        if (path == AclAttribute.GrainKeyService)
        {
            if (!typeof(IGrainWithStringKey).IsAssignableFrom(method.DeclaringType))
            {
                problems.Add($"{operation}: {AclAttribute.GrainKeyService} needs a string-keyed grain");
                return null;
            }
            return static (_, target) => target.Key.ToString();
        }
        var parts = path.Split('.');
        var parameter = method.GetParameters().FirstOrDefault(p => p.Name == parts[0]);
        if (parameter is null)
        {
            problems.Add($"{operation}: Name \"{path}\" names no parameter (parameters: {string.Join(", ", method.GetParameters().Select(p => p.Name))})");
            return null;
        }
        // (object arg) => ((T)arg).A.B, compiled once.
        var argument = Expression.Parameter(typeof(object), "argument");
        Expression body = Expression.Convert(argument, parameter.ParameterType);
        foreach (var part in parts.Skip(1))
        {
            var property = body.Type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance);
            if (property is null)
            {
                problems.Add($"{operation}: Name \"{path}\": {body.Type.Name} has no property {part}");
                return null;
            }
            // A null DTO reads as no name (""), which no rule but a "" prefix grants; the grain then refuses the input.
            body = Expression.Condition(Expression.Equal(body, Expression.Constant(null, body.Type)),
                Expression.Default(property.PropertyType), Expression.Property(body, property));
        }
        if (body.Type != typeof(string) && !typeof(IEnumerable<string>).IsAssignableFrom(body.Type))
        {
            problems.Add($"{operation}: Name \"{path}\" is a {body.Type.Name}, not a string or a list of strings");
            return null;
        }
        var read = Expression.Lambda<Func<object?, object?>>(Expression.Convert(body, typeof(object)), argument).Compile();
        var position = parameter.Position;
        return (request, _) => request.GetArgument(position) is { } value ? read(value) : null;
    }

    /// <summary>
    /// The names a value read by <see cref="AclMethodRequirement.Name"/> stands for: a <c>[ns/]name</c> or a
    /// <c>dc/service</c> key is checked on its last segment (service names contain no <c>/</c>; Consul CE rules carry
    /// no namespace). A missing name is <c>""</c>.
    /// </summary>
    public static string NameOf(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        var slash = value.LastIndexOf('/');
        return slash < 0 ? value : value[(slash + 1)..];
    }

    /// <summary>Every name in <paramref name="value"/>: one string, or each of a sequence (a default ImmutableArray is none).</summary>
    public static IEnumerable<string> NamesOf(object? value) => value switch
    {
        string s => [NameOf(s)],
        ImmutableArray<string> { IsDefault: true } => [],
        IEnumerable<string> many => many.Select(NameOf),
        _ => [""],
    };
}
