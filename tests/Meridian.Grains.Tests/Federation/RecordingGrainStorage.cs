using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orleans.Storage;

namespace Meridian.Grains.Tests.Federation;

/// <summary>One state write as the storage received it: the serialized row (what a database would hold) and a copy.</summary>
public sealed record StoredWrite(string StateName, GrainId GrainId, Type StateType, byte[] Data, object State)
{
    /// <summary>The row as text: the Orleans-serialized bytes (strings are UTF-8 in them) and a JSON rendering of the object.</summary>
    public string Text => Encoding.UTF8.GetString(Data) + "\n" + JsonSerializer.Serialize(State, StateType, FederationText.Json);
}

/// <summary>
/// A datacenter's grain storage (its "database"), owned by the test so it outlives a cluster: a datacenter can be
/// stopped and started again on the same data (a standalone datacenter later joining as a secondary). Rows are stored
/// serialized with Orleans' serializer, as a real provider stores them, and every write is recorded so a test can read
/// every state a datacenter ever persisted.
/// </summary>
public sealed class DatacenterStore(string datacenter)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string State, GrainId Grain), (string ETag, byte[] Data)> _rows = [];
    private readonly ConcurrentQueue<StoredWrite> _writes = new();

    public string Datacenter { get; } = datacenter;

    /// <summary>
    /// Awaited before each write of a state of the given type, when set: a test holds a write back (a slow database)
    /// to see what readers observe while it is in flight.
    /// </summary>
    public Func<Type, Task>? BeforeWrite { get; set; }

    /// <summary>Every write so far, in order.</summary>
    public IReadOnlyList<StoredWrite> Writes => [.. _writes];

    /// <summary>The last state written for a grain of the given state type whose id ends with <paramref name="key"/>.</summary>
    public T? Latest<T>(string key) where T : class
        => _writes.Reverse().Where(w => w.State is T && w.GrainId.Key.ToString() == key).Select(w => (T)w.State).FirstOrDefault();

    internal bool TryRead(string state, GrainId grain, out (string ETag, byte[] Data) row)
    {
        lock (_lock) return _rows.TryGetValue((state, grain), out row);
    }

    internal string Write(string state, GrainId grain, string? expectedETag, byte[] data, Type type, object copy)
    {
        lock (_lock)
        {
            CheckETag(state, grain, expectedETag);
            var etag = Guid.NewGuid().ToString("N");
            _rows[(state, grain)] = (etag, data);
            _writes.Enqueue(new StoredWrite(state, grain, type, data, copy));
            return etag;
        }
    }

    internal void Clear(string state, GrainId grain, string? expectedETag)
    {
        lock (_lock)
        {
            CheckETag(state, grain, expectedETag);
            _rows.Remove((state, grain));
        }
    }

    // The optimistic concurrency every Orleans provider enforces: a write must carry the ETag it read.
    private void CheckETag(string state, GrainId grain, string? expected)
    {
        var stored = _rows.TryGetValue((state, grain), out var row) ? row.ETag : null;
        if (stored != expected)
            throw new InconsistentStateException($"ETag mismatch for {state} of {grain} in {Datacenter}", stored ?? "(none)", expected ?? "(none)");
    }
}

/// <summary>
/// The <see cref="IGrainStorage"/> registered as <see cref="MeridianStorage.Name"/> in test silos, backed by a
/// <see cref="DatacenterStore"/>; it serializes with the silo's serializer for that provider name, as real providers do.
/// </summary>
public sealed class RecordingGrainStorage(DatacenterStore store, IGrainStorageSerializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.TryRead(stateName, grainId, out var row))
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(row.Data));
            grainState.ETag = row.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.BeforeWrite is { } before) await before(typeof(T));
        var data = serializer.Serialize(grainState.State).ToArray();
        var copy = serializer.Deserialize<T>(new BinaryData(data))!;
        grainState.ETag = store.Write(stateName, grainId, grainState.ETag, data, typeof(T), copy);
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store.Clear(stateName, grainId, grainState.ETag);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}

/// <summary>Finding key material in text.</summary>
public static partial class FederationText
{
    public static readonly JsonSerializerOptions Json = new() { IncludeFields = false };

    [GeneratedRegex(@"-----BEGIN ([A-Z ]*)PRIVATE KEY-----(.*?)-----END \1PRIVATE KEY-----", RegexOptions.Singleline)]
    private static partial Regex PrivateKeyBlock();

    [GeneratedRegex(@"\\n|\\u002B|\\/|\s")]
    private static partial Regex Noise();

    /// <summary>
    /// The base64 bodies of every PEM private-key block in <paramref name="text"/>, whitespace removed, so a key is found
    /// whether it appears as PEM text, in a serialized row or in JSON (whose escapes are undone first).
    /// </summary>
    public static IReadOnlyList<string> PrivateKeyBodies(string text)
    {
        var plain = text.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\u002B", "+", StringComparison.Ordinal)
            .Replace("\\/", "/", StringComparison.Ordinal);
        return [.. PrivateKeyBlock().Matches(plain).Select(m => Normalize(m.Groups[2].Value))];
    }

    /// <summary>Text without whitespace and JSON escapes, for searching a key body anywhere in it.</summary>
    public static string Normalize(string text) => Noise().Replace(
        text.Replace("\\u002B", "+", StringComparison.Ordinal).Replace("\\/", "/", StringComparison.Ordinal), "");
}
