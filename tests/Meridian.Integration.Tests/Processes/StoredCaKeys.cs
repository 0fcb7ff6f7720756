using System.Text;
using Meridian.Grains.Certificates;
using Meridian.Pki;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Meridian.Integration.Tests.Processes;

/// <summary>The CA keys a datacenter's database holds, opened the way its silos open them.</summary>
public static class StoredCaKeys
{
    private static Serializer Serializer { get; } = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(CaKeyState).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>();

    /// <summary>
    /// The PEM of every key in <paramref name="payload"/> (the <c>PayloadBinary</c> of a <c>ca-keys</c> row), opened
    /// with <paramref name="keyEncryptionKey"/> as datacenter <paramref name="datacenter"/>'s CA does.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Open(byte[] payload, string datacenter, byte[] keyEncryptionKey)
    {
        var state = Serializer.Deserialize<CaKeyState>(payload) ?? throw new InvalidOperationException("empty ca-keys row");
        var sealer = KeySealers.Create(keyEncryptionKey);
        return state.Keys.ToDictionary(k => k.Key,
            k => Encoding.UTF8.GetString(sealer.Unseal(k.Value, $"meridian.ca.key/{datacenter}/{k.Key}")));
    }
}
