using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Meridian.Grains;

namespace Meridian.Integration.Tests;

/// <summary>
/// Every grain state Meridian persists, found by reflection (each <c>[PersistentState]</c> constructor parameter of
/// every grain class in Meridian.Grains), so a new state type is covered by the storage tests without being listed;
/// plus a filler that builds an instance with every member set (no null, no empty collection) and a deep comparison.
/// </summary>
public static class PersistedStates
{
    /// <summary>(grain class, state name, state type) of every persistent state in Meridian.Grains.</summary>
    public static IReadOnlyList<(Type Grain, string StateName, Type StateType)> All { get; } = Discover();

    private static List<(Type, string, Type)> Discover()
    {
        var found = new List<(Type, string, Type)>();
        foreach (var grain in typeof(MeridianStorage).Assembly.GetTypes().Where(t => typeof(Grain).IsAssignableFrom(t) && !t.IsAbstract))
        {
            foreach (var parameter in grain.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).SelectMany(c => c.GetParameters()))
            {
                if (parameter.GetCustomAttribute<PersistentStateAttribute>() is not { } attribute) continue;
                if (!parameter.ParameterType.IsGenericType || parameter.ParameterType.GetGenericTypeDefinition() != typeof(IPersistentState<>))
                    throw new InvalidOperationException($"{grain.Name}({parameter.Name}): [PersistentState] on {parameter.ParameterType}");
                found.Add((grain, attribute.StateName, parameter.ParameterType.GetGenericArguments()[0]));
            }
        }
        return found;
    }

    /// <summary>An instance of <paramref name="type"/> with every settable member set to a non-default value.</summary>
    public static object Filled(Type type) => new Filler().Create(type, 0);

    /// <summary>The path of the first member that is null or an empty collection, or null when everything is filled.</summary>
    public static string? FirstUnfilled(object? value, string path = "$")
    {
        switch (value)
        {
            case null:
                return path;
            case string s:
                return s.Length == 0 ? path : null;
            case IEnumerable items:
                var list = items.Cast<object?>().ToList();
                if (list.Count == 0) return path;
                return list.Select((item, i) => FirstUnfilled(item, $"{path}[{i}]")).FirstOrDefault(p => p is not null);
        }
        var type = value.GetType();
        if (IsScalar(type)) return null;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
            return FirstUnfilled(type.GetProperty("Key")!.GetValue(value), path + ".Key") ?? FirstUnfilled(type.GetProperty("Value")!.GetValue(value), path + ".Value");
        return Members(type).Select(m => FirstUnfilled(m.GetValue(value), $"{path}.{m.Name}")).FirstOrDefault(p => p is not null);
    }

    /// <summary>The path of the first difference between <paramref name="expected"/> and <paramref name="actual"/>, or null.</summary>
    public static string? FirstDifference(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null) return expected is null && actual is null ? null : $"{path}: {expected ?? "null"} != {actual ?? "null"}";
        var type = expected.GetType();
        if (type != actual.GetType()) return $"{path}: type {type} != {actual.GetType()}";
        if (IsScalar(type)) return Equals(expected, actual) ? null : $"{path}: {expected} != {actual}";
        if (expected is IDictionary e && actual is IDictionary a)
        {
            if (e.Count != a.Count) return $"{path}: {e.Count} entries != {a.Count}";
            foreach (DictionaryEntry entry in e)
            {
                if (!a.Contains(entry.Key)) return $"{path}[{entry.Key}]: missing";
                if (FirstDifference(entry.Value, a[entry.Key], $"{path}[{entry.Key}]") is { } d) return d;
            }
            return null;
        }
        if (expected is IEnumerable es && actual is IEnumerable @as)
        {
            var (left, right) = (es.Cast<object?>().ToList(), @as.Cast<object?>().ToList());
            if (left.Count != right.Count) return $"{path}: {left.Count} items != {right.Count}";
            // Sets have no order to keep: each expected item must be matched by one actual item.
            if (IsSet(type))
            {
                foreach (var item in left)
                {
                    var match = right.FindIndex(r => FirstDifference(item, r) is null);
                    if (match < 0) return $"{path}: {item} missing";
                    right.RemoveAt(match);
                }
                return null;
            }
            return left.Select((item, i) => FirstDifference(item, right[i], $"{path}[{i}]")).FirstOrDefault(d => d is not null);
        }
        return Members(type).Select(m => FirstDifference(m.GetValue(expected), m.GetValue(actual), $"{path}.{m.Name}")).FirstOrDefault(d => d is not null);
    }

    private static bool IsSet(Type type) => type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ISet<>));

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTimeOffset)
        || type == typeof(DateTime) || type == typeof(TimeSpan) || type == typeof(Guid);

    private static IEnumerable<PropertyInfo> Members(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    private sealed class Filler
    {
        private const int MaxDepth = 24;
        private int _next;

        public object Create(Type type, int depth)
        {
            if (depth > MaxDepth) throw new InvalidOperationException($"{type}: nesting deeper than {MaxDepth} (a cycle?)");
            var n = ++_next;
            if (Nullable.GetUnderlyingType(type) is { } inner) return Create(inner, depth);
            if (type == typeof(string)) return $"v{n}";
            if (type == typeof(bool)) return true;
            if (type == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddSeconds(n);
            if (type == typeof(DateTime)) return new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddSeconds(n);
            if (type == typeof(TimeSpan)) return TimeSpan.FromMinutes(n);
            if (type == typeof(Guid)) return Guid.NewGuid();
            if (type.IsEnum) return Enum.GetValues(type).Cast<object>().Last();
            if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return Convert.ChangeType(n + 0.5, type);
            if (type.IsPrimitive) return Convert.ChangeType(n, type);
            if (type.IsArray) return Array(type.GetElementType()!, depth);
            if (type.IsGenericType && CreateCollection(type, depth) is { } collection) return collection;
            return CreateObject(type, depth);
        }

        private Array Array(Type element, int depth)
        {
            var array = System.Array.CreateInstance(element, 2);
            for (var i = 0; i < 2; i++) array.SetValue(Create(element, depth + 1), i);
            return array;
        }

        private object? CreateCollection(Type type, int depth)
        {
            var definition = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (args.Length == 2 && type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            {
                var pairType = typeof(KeyValuePair<,>).MakeGenericType(args);
                var pairs = System.Array.CreateInstance(pairType, 2);
                for (var i = 0; i < 2; i++) pairs.SetValue(Activator.CreateInstance(pairType, Create(args[0], depth + 1), Create(args[1], depth + 1)), i);
                if (definition == typeof(ImmutableDictionary<,>) || definition == typeof(IImmutableDictionary<,>))
                    return Generic(typeof(ImmutableDictionary), nameof(ImmutableDictionary.CreateRange), args, 1, pairs);
                if (definition == typeof(ImmutableSortedDictionary<,>))
                    return Generic(typeof(ImmutableSortedDictionary), nameof(ImmutableSortedDictionary.CreateRange), args, 1, pairs);
                var concrete = type.IsInterface ? typeof(Dictionary<,>).MakeGenericType(args) : type;
                var dictionary = (IDictionary)Activator.CreateInstance(concrete)!;
                foreach (var pair in pairs) dictionary.Add(pairType.GetProperty("Key")!.GetValue(pair)!, pairType.GetProperty("Value")!.GetValue(pair));
                return dictionary;
            }
            if (args.Length != 1 || !typeof(IEnumerable).IsAssignableFrom(type)) return null;
            var items = Array(args[0], depth);
            if (definition == typeof(ImmutableArray<>)) return Generic(typeof(ImmutableArray), nameof(ImmutableArray.CreateRange), args, 1, items);
            if (definition == typeof(ImmutableList<>) || definition == typeof(IImmutableList<>))
                return Generic(typeof(ImmutableList), nameof(ImmutableList.CreateRange), args, 1, items);
            if (definition == typeof(ImmutableHashSet<>) || definition == typeof(IImmutableSet<>))
                return Generic(typeof(ImmutableHashSet), nameof(ImmutableHashSet.CreateRange), args, 1, items);
            var target = type.IsInterface
                ? (definition == typeof(ISet<>) || definition == typeof(IReadOnlySet<>) ? typeof(HashSet<>) : typeof(List<>)).MakeGenericType(args)
                : type;
            return Activator.CreateInstance(target, items)
                ?? throw new InvalidOperationException($"{type}: cannot build a filled collection");
        }

        private static object Generic(Type holder, string name, Type[] args, int parameters, object argument) =>
            holder.GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetGenericArguments().Length == args.Length
                    && m.GetParameters().Length == parameters
                    && m.GetParameters()[0].ParameterType.IsGenericType
                    && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(IEnumerable<>))
                .MakeGenericMethod(args)
                .Invoke(null, [argument])!;

        private object CreateObject(Type type, int depth)
        {
            if (type.IsAbstract || type.IsInterface) throw new InvalidOperationException($"{type}: the filler cannot build an abstract type; teach it this one");
            var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                ?? throw new InvalidOperationException($"{type}: no public constructor");
            var instance = constructor.Invoke([.. constructor.GetParameters().Select(p => Create(p.ParameterType, depth + 1))]);
            foreach (var property in Members(type))
            {
                var setter = property.GetSetMethod(nonPublic: true);
                if (setter is null) continue;
                setter.Invoke(instance, [Create(property.PropertyType, depth + 1)]);
            }
            return instance;
        }
    }
}
