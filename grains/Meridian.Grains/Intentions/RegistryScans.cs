namespace Meridian.Grains.Intentions;

/// <summary>
/// Runs the registry's whole-datacenter scans (list, match, snapshots) on the thread pool over an immutable index, so a
/// scan of 100,000 intentions never holds the registry's single activation: writes, change feeds and the caches that
/// authorize reads go on meanwhile (issue 12 §5). A silo service so that tests can hold a scan open.
/// </summary>
public class RegistryScans
{
    /// <summary>Runs <paramref name="scan"/> (named by <paramref name="operation"/>) off the calling activation.</summary>
    public virtual Task<T> RunAsync<T>(string operation, Func<T> scan) => Task.Run(scan);
}
