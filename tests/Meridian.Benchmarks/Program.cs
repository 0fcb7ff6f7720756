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
};

if (args.Length != 1 || !scenarios.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Meridian.Benchmarks <scenario>   (scenarios: {string.Join(", ", scenarios.Keys)})");
    return 2;
}
#if DEBUG
Console.Error.WriteLine("warning: Debug build; run with -c Release for meaningful numbers");
#endif
await run();
return 0;
