namespace Meridian.Grains.Certificates;

/// <summary>
/// Hands out certificate serial numbers in this silo from blocks reserved at the datacenter's CA grain, so serials
/// stay unique and small per datacenter without a grain call per certificate. Callers first
/// <see cref="ReserveAsync"/> one serial (refilling from the CA when needed), then the signer calls <see cref="Next"/>.
/// </summary>
public sealed class SerialAllocator(IGrainFactory grains, DatacenterContext datacenter)
{
    /// <summary>Serials fetched per call to the CA grain.</summary>
    public const int BlockSize = 4096;

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _refill = new(1, 1);
    private readonly Queue<(ulong Next, ulong End)> _blocks = new();
    private long _reservable;
    private ulong _next, _end;

    /// <summary>Guarantees that the next <see cref="Next"/> call by this caller has a serial.</summary>
    public async Task ReserveAsync(CancellationToken cancellationToken = default)
    {
        while (Interlocked.Decrement(ref _reservable) < 0)
        {
            Interlocked.Increment(ref _reservable);
            await _refill.WaitAsync(cancellationToken);
            try
            {
                if (Interlocked.Read(ref _reservable) > 0) continue;
                var block = await grains.GetGrain<ICertificateAuthorityGrain>(datacenter.Datacenter)
                    .ReserveSerialsAsync(BlockSize, cancellationToken);
                lock (_lock) _blocks.Enqueue((block.First, block.First + (ulong)block.Count));
                Interlocked.Add(ref _reservable, block.Count);
            }
            finally
            {
                _refill.Release();
            }
        }
    }

    /// <summary>The next reserved serial. Only valid after a successful <see cref="ReserveAsync"/>.</summary>
    public ulong Next()
    {
        lock (_lock)
        {
            while (_next >= _end)
            {
                if (!_blocks.TryDequeue(out var block)) throw new InvalidOperationException("No reserved serial: call ReserveAsync first.");
                (_next, _end) = block;
            }
            return _next++;
        }
    }
}
