using System.Reflection;
using Meridian.Grains;

namespace Meridian.Grains.Tests;

/// <summary>
/// CA keys never leave their datacenter: a client of a cluster (a CLI, an SDK user, a secondary's link) can call any
/// method of any grain interface, so no grain contract may carry a CA key. The only private key a contract carries is
/// the service's own leaf key (<see cref="IssuedCertificateDto.PrivateKeyPEM"/>), generated for that caller.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GrainContractTests
{
    [Fact]
    public void GrainContracts_NoMethodCarriesACaKey()
    {
        var contracts = typeof(IDatacenterGrain).Assembly.GetTypes().Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t));
        var offenders = new List<string>();
        foreach (var method in contracts.SelectMany(t => t.GetMethods()))
        {
            var types = method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType);
            foreach (var type in types.SelectMany(Expand).Distinct())
            {
                offenders.AddRange(type.GetProperties()
                    .Where(p => p.Name.Contains("Key", StringComparison.OrdinalIgnoreCase) && p.Name.Contains("Pem", StringComparison.OrdinalIgnoreCase))
                    .Where(p => p is not { Name: nameof(IssuedCertificateDto.PrivateKeyPEM), DeclaringType: var d } || d != typeof(IssuedCertificateDto))
                    .Select(p => $"{method.DeclaringType!.Name}.{method.Name}: {type.Name}.{p.Name}"));
            }
        }
        Assert.Empty(offenders);
        Assert.NotEmpty(contracts);
    }

    // The type and the types of its properties and generic arguments, one level deep is enough for our DTOs' nesting
    // (Task<T>, ImmutableArray<T>, records holding records), recursing through Meridian types only.
    private static IEnumerable<Type> Expand(Type type)
    {
        var seen = new HashSet<Type>();
        var stack = new Stack<Type>([type]);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            foreach (var g in t.IsGenericType ? t.GetGenericArguments() : []) stack.Push(g);
            if (t.Namespace?.StartsWith("Meridian", StringComparison.Ordinal) == true)
                foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance)) stack.Push(p.PropertyType);
        }
        return seen;
    }
}
