namespace Meridian.Pki;

/// <summary>
/// A per-datacenter serial source (SPEC §3.3: small monotonically increasing integers shared by every certificate the
/// datacenter's CA issues, not random). Lock-free; pass <see cref="Next"/> as the <c>Func&lt;ulong&gt;</c> the signers take.
/// The durable high-water mark belongs to the caller (Consul keeps it in Raft); start from it after a restart.
/// </summary>
public sealed class SerialCounter(ulong last = 0)
{
    private ulong _last = last;

    /// <summary>The last serial handed out.</summary>
    public ulong Last => Interlocked.Read(ref _last);

    /// <summary>The next serial (thread-safe).</summary>
    public ulong Next() => Interlocked.Increment(ref _last);
}
