using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// Typed configuration reads that turn a value the type cannot hold into a problem naming the full key
/// (<c>Meridian:Endpoints:HttpPort: 'abc' is not a whole number</c>) instead of the configuration binder's
/// <see cref="InvalidOperationException"/>, which ended the silo with an unhandled exception and exit 134. Every read
/// of a typed Meridian key goes through here, so all such problems are collected and reported together.
/// </summary>
internal static class ConfigValues
{
    /// <summary>
    /// The value at <paramref name="key"/>, <paramref name="fallback"/> when it is absent; when it does not parse, a
    /// problem is added and <paramref name="fallback"/> returned (so later validation still sees a usable value).
    /// </summary>
    public static T Read<T>(IConfiguration config, string key, T fallback, List<string> problems) where T : struct =>
        ReadOptional<T>(config, key, problems) ?? fallback;

    /// <summary>The value at <paramref name="key"/>; null when it is absent or (with a problem added) does not parse.</summary>
    public static T? ReadOptional<T>(IConfiguration config, string key, List<string> problems) where T : struct
    {
        // The section's Path is the full key even when config is itself a section (Meridian:Ca).
        var entry = config.GetSection(key);
        if (entry.Value is not { } text) return null;
        if (TryParse(typeof(T), text, out var value, out var expected)) return (T)value!;
        problems.Add($"{entry.Path}: '{text}' is {expected}");
        return null;
    }

    /// <summary>
    /// <paramref name="section"/> bound to a new <typeparamref name="T"/>, property by property: a property of a type
    /// <see cref="TryParse"/> knows is parsed here (a bad value is a problem and keeps the default), any other goes
    /// through the configuration binder.
    /// </summary>
    public static T Bind<T>(IConfiguration config, string section, List<string> problems) where T : new()
    {
        var result = new T();
        var root = config.GetSection(section);
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var child = root.GetSection(property.Name);
            if (IsScalar(property.PropertyType))
            {
                if (child.Value is not { } text) continue;
                if (TryParse(property.PropertyType, text, out var value, out var expected)) property.SetValue(result, value);
                else problems.Add($"{child.Path}: '{text}' is {expected}");
            }
            else if (property.PropertyType == typeof(List<string>) && child.Value is { } one && !child.GetChildren().Any())
            {
                // A list given as one value (an environment variable: Meridian__Primary__Gateways=a:1,b:2) rather than as
                // indexed children (…__0, …__1): comma-separated items. The binder would leave the list null.
                property.SetValue(result, one.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList());
            }
            else if (child.Value is not null || child.GetChildren().Any())
            {
                // Never null: a value the binder cannot turn into the property's type keeps the default
                // (an empty value keeps it too); the value is not echoed: it may be a secret.
                if (child.Get(property.PropertyType) is { } bound) property.SetValue(result, bound);
                else if (!string.IsNullOrEmpty(child.Value)) problems.Add($"{child.Path}: this value cannot be read as {property.PropertyType.Name}");
            }
        }
        return result;
    }

    private static bool IsScalar(Type type) =>
        type == typeof(int) || type == typeof(double) || type == typeof(bool) || type == typeof(TimeSpan);

    private static bool TryParse(Type type, string text, out object? value, out string expected)
    {
        var culture = CultureInfo.InvariantCulture;
        (value, expected) = (null, "");
        if (type == typeof(int))
        {
            expected = "not a whole number";
            if (int.TryParse(text, NumberStyles.Integer, culture, out var v)) value = v;
        }
        else if (type == typeof(double))
        {
            expected = "not a number";
            if (double.TryParse(text, NumberStyles.Float, culture, out var v)) value = v;
        }
        else if (type == typeof(bool))
        {
            expected = "not true or false";
            if (bool.TryParse(text, out var v)) value = v;
        }
        else if (type == typeof(TimeSpan))
        {
            expected = "not a duration (hh:mm:ss, e.g. 00:05:00)";
            if (TimeSpan.TryParse(text, culture, out var v)) value = v;
        }
        else
        {
            throw new ArgumentException($"{type} is not a configuration scalar", nameof(type));
        }
        return value is not null;
    }
}
