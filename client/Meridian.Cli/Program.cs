using Meridian.Cli;

// The `meridian` command. Everything lives in MeridianCli so tests can run it with fake writers and clients.
return await MeridianCli.RunAsync(args, CliContext.CreateDefault());
