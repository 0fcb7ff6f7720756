using System.Collections.Concurrent;
using Orleans.Runtime;

namespace Meridian.Integration.Tests;

/// <summary>Grain with ADO.NET-persisted state and a reminder, used to prove the schema against the real providers.</summary>
[Alias("meridian.tests.IPersistenceProbeGrain")]
public interface IPersistenceProbeGrain : IGrainWithStringKey
{
    /// <summary>Writes <paramref name="value"/> and returns the snapshot after the write.</summary>
    [Alias("Set")]
    Task<ProbeSnapshot> SetAsync(string value);

    /// <summary>Returns the state as loaded from storage on activation (plus later writes).</summary>
    [Alias("Get")]
    Task<ProbeSnapshot> GetAsync();

    /// <summary>Clears the state (ClearStorageKey).</summary>
    [Alias("Clear")]
    Task ClearAsync();

    [Alias("RegisterReminder")]
    Task RegisterReminderAsync(string name, TimeSpan dueTime, TimeSpan period);

    [Alias("HasReminder")]
    Task<bool> HasReminderAsync(string name);

    [Alias("UnregisterReminder")]
    Task UnregisterReminderAsync(string name);
}

[GenerateSerializer, Alias("meridian.tests.ProbeSnapshot")]
public sealed record ProbeSnapshot([property: Id(0)] string? Value, [property: Id(1)] string? ETag, [property: Id(2)] bool RecordExists);

/// <summary>Stable name and namespace: the ADO.NET serializer stores the type name with the payload.</summary>
[GenerateSerializer, Alias("meridian.tests.ProbeState")]
public sealed class ProbeState
{
    [Id(0)] public string? Value { get; set; }
}

public sealed class PersistenceProbeGrain(
    [PersistentState("probe", TestSilo.StorageName)] IPersistentState<ProbeState> state) : Grain, IPersistenceProbeGrain, IRemindable
{
    public async Task<ProbeSnapshot> SetAsync(string value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
        return Snapshot();
    }

    public Task<ProbeSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public Task ClearAsync() => state.ClearStateAsync();

    public Task RegisterReminderAsync(string name, TimeSpan dueTime, TimeSpan period) =>
        this.RegisterOrUpdateReminder(name, dueTime, period);

    public async Task<bool> HasReminderAsync(string name) => await this.GetReminder(name) is not null;

    public async Task UnregisterReminderAsync(string name)
    {
        if (await this.GetReminder(name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ReminderTicks.Record(this.GetPrimaryKeyString(), reminderName);
        return Task.CompletedTask;
    }

    private ProbeSnapshot Snapshot() => new(state.State.Value, state.Etag, state.RecordExists);
}

/// <summary>Reminder ticks observed in this process (test silos run in-process), awaitable by tests.</summary>
public static class ReminderTicks
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Waiters = new();

    /// <summary>A task completing at the next tick of <paramref name="reminder"/> on grain <paramref name="grainKey"/>.</summary>
    public static Task NextTickAsync(string grainKey, string reminder) =>
        Waiters.GetOrAdd(Key(grainKey, reminder), _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Forgets ticks seen so far, so <see cref="NextTickAsync"/> waits for a new one.</summary>
    public static void Reset(string grainKey, string reminder) => Waiters.TryRemove(Key(grainKey, reminder), out _);

    internal static void Record(string grainKey, string reminder) =>
        Waiters.GetOrAdd(Key(grainKey, reminder), _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private static string Key(string grainKey, string reminder) => grainKey + "\n" + reminder;
}
