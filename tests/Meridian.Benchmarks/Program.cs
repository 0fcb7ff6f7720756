using Meridian.Benchmarks.Scenarios;

// Scenario name -> runner. Each scenario prints human-readable lines and ends with one JSON line.
var scenarios = new Dictionary<string, Func<Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["leaf-signing"] = LeafSigningScenario.RunAsync,
    ["authorize"] = AuthorizeScenario.RunAsync,
    ["leaf-issuance"] = LeafIssuanceScenario.RunAsync,
    ["scale"] = ScaleScenario.RunAsync,
    ["replication-lag"] = ReplicationLagScenario.RunAsync,
    ["catch-up"] = CatchUpScenario.RunAsync,
    ["rotation"] = RotationScenario.RunAsync,
    ["acl"] = AclScenario.RunAsync,
    ["query"] = QueryScenario.RunAsync,
    ["proxy"] = ProxyScenario.RunAsync,
};

var defaultGc = args.Contains("--default-gc");
args = [.. args.Where(a => a != "--default-gc")];
if (args.Length != 1 || !scenarios.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Meridian.Benchmarks <scenario> [--default-gc]   (scenarios: {string.Join(", ", scenarios.Keys)})");
    return 2;
}
// The authorize scenario's load generator is an SDK client; it runs with the client GC setting the README recommends
// for latency-sensitive callers (a 4 MiB gen0 budget, DOTNET_GCgen0size, which only the environment can set), so the
// process re-executes itself with it. --default-gc measures the runtime's default instead.
if ((args[0].Equals("authorize", StringComparison.OrdinalIgnoreCase) || args[0].Equals("acl", StringComparison.OrdinalIgnoreCase)) && !defaultGc
    && Environment.GetEnvironmentVariable(ClientGc.Variable) is null && Environment.ProcessPath is { } self)
    return await ClientGc.RerunAsync(self, args);

#if DEBUG
Console.Error.WriteLine("warning: Debug build; run with -c Release for meaningful numbers");
#endif
await run();
return 0;
