using System.Collections.Concurrent;
using Orleans.Storage;

namespace Meridian.Grains.Tests;

/// <summary>
/// Grain storage in a dictionary, holding rows before the silo starts: what a store written by an earlier version
/// looks like to the grains that activate on it (their first read finds the rows). Rows are keyed by state name and
/// grain key; each grain type uses its own state name.
/// </summary>
public sealed class SeededGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, string Key), object> _rows = new();

    /// <summary>Stores <paramref name="state"/> as the row of <paramref name="stateName"/> for the grain keyed <paramref name="key"/>.</summary>
    public SeededGrainStorage Seed(string stateName, string key, object state)
    {
        _rows[(stateName, key)] = state;
        return this;
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId.Key.ToString()!), out var row))
            (grainState.State, grainState.RecordExists, grainState.ETag) = ((T)row, true, "1");
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _rows[(stateName, grainId.Key.ToString()!)] = grainState.State!;
        (grainState.RecordExists, grainState.ETag) = (true, "1");
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _rows.TryRemove((stateName, grainId.Key.ToString()!), out _);
        (grainState.RecordExists, grainState.ETag) = (false, null);
        return Task.CompletedTask;
    }
}
