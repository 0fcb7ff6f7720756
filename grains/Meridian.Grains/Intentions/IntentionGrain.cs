namespace Meridian.Grains.Intentions;

/// <summary>Persisted state of one destination's intentions. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.intentions.IntentionGrainState")]
public sealed class IntentionGrainState
{
    [Id(0)] public IntentionEntryDto? Entry { get; set; }
}

/// <summary>Durable holder of one destination's entry; see <see cref="IIntentionGrain"/>.</summary>
public sealed class IntentionGrain(
    [PersistentState("intention", MeridianStorage.Name)] IPersistentState<IntentionGrainState> state) : Grain, IIntentionGrain
{
    /// <inheritdoc />
    public Task<IntentionEntryDto?> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(state.State.Entry);

    /// <inheritdoc />
    public Task<IntentionEntryDto?> GetState() => GetAsync();

    /// <inheritdoc />
    public async Task SetAsync(IntentionEntryDto? entry, CancellationToken cancellationToken = default)
    {
        state.State.Entry = entry;
        if (entry is null)
        {
            await state.ClearStateAsync(cancellationToken);
            DeactivateOnIdle();
        }
        else
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }
}
