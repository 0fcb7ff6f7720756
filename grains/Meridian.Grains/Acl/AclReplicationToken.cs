namespace Meridian.Grains.Acl;

/// <summary>
/// The token a secondary presents on every call it makes to the primary for replication and federation (intention and
/// ACL feeds, the roots watch, intermediate signing, rotation progress), as Consul's <c>acl.tokens.replication</c>.
/// Starts from <c>Meridian:Acl:Tokens:Replication</c> and can be replaced while the silo runs (the host sets it on a
/// configuration reload, as <c>consul acl set-agent-token replication</c> does): each replication round reads it
/// afresh, so a new token takes effect at the next round without a restart. A secret: <see cref="ToString"/> never shows it.
/// </summary>
public sealed class AclReplicationToken
{
    private volatile string? _value;
    private volatile TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts from <see cref="AclSettings.ReplicationToken"/>.</summary>
    public AclReplicationToken(AclSettings settings) => _value = Normalize(settings.ReplicationToken);

    /// <summary>The token to send now; null: none (the primary sees the anonymous token).</summary>
    public string? Current => _value;

    /// <summary>
    /// Completes at the next <see cref="Set"/>: a replicator backing off after a refusal retries at once with the new
    /// token rather than after its back-off (up to 2 minutes).
    /// </summary>
    public Task Changed => _changed.Task;

    /// <summary>Replaces the token (null or empty: none); the next round of every replicator uses it.</summary>
    public void Set(string? token)
    {
        _value = Normalize(token);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private static string? Normalize(string? token) => string.IsNullOrWhiteSpace(token) ? null : token.Trim();

    /// <inheritdoc />
    public override string ToString() => _value is null ? "AclReplicationToken { none }" : "AclReplicationToken { set }";
}
