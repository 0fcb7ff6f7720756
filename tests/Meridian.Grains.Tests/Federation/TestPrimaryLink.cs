using Meridian.Grains.Hosting;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// A secondary's link to the primary, backed by the primary test cluster's client. Switchable ("primary down": every
/// call to <see cref="GetPrimaryAsync"/> fails with <see cref="DatacenterUnreachableException"/>, as the real link does
/// once its connect wait is over) and re-pointable (at a rebuilt primary cluster).
/// </summary>
public sealed class TestPrimaryLink(string primaryDatacenter) : IPrimaryDatacenterLink
{
    // The real link waits for a connection as long as the caller allows (10 s for forwarded writes); a test does not
    // need to wait that long to see the failure.
    private static readonly TimeSpan MaxWaitWhileDown = TimeSpan.FromMilliseconds(300);

    private readonly Lock _lock = new();
    private IGrainFactory? _target;
    private bool _up;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _refused;
    private CancellationTokenSource _connection = new();

    /// <summary>Cancelled on <see cref="Disconnect"/> or <see cref="PointTo"/>, as the real link does when its connection drops.</summary>
    public CancellationToken ConnectionLost
    {
        get { lock (_lock) return _connection.Token; }
    }

    public Task Connected
    {
        get { lock (_lock) return _connected.Task; }
    }

    private void DropConnection()
    {
        var lost = _connection;
        _connection = new CancellationTokenSource();
        lost.Cancel();
    }

    /// <summary>How many calls found the link down.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public bool IsConnected
    {
        get { lock (_lock) return _up && _target is not null; }
    }

    /// <summary>Points the link at a primary cluster (grain references obtained before keep their old cluster).</summary>
    public void PointTo(IGrainFactory primary)
    {
        lock (_lock)
        {
            _target = primary;
            DropConnection();
        }
    }

    public void Connect()
    {
        lock (_lock)
        {
            _up = true;
            _connected.TrySetResult();
        }
    }

    public void Disconnect()
    {
        lock (_lock)
        {
            _up = false;
            DropConnection();
            if (_connected.Task.IsCompleted) _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public async Task<IGrainFactory> GetPrimaryAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Task connected;
        lock (_lock)
        {
            if (_up && _target is { } target) return target;
            connected = _connected.Task;
        }
        try
        {
            await connected.WaitAsync(wait < MaxWaitWhileDown ? wait : MaxWaitWhileDown, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        lock (_lock)
        {
            if (_up && _target is { } target) return target;
        }
        Interlocked.Increment(ref _refused);
        throw new DatacenterUnreachableException(primaryDatacenter, $"the primary datacenter {primaryDatacenter} is unreachable (test link down)");
    }
}
