using Meridian.Silo;

// A Meridian datacenter silo. Configuration: appsettings.json, MERIDIAN__* environment variables, command line.
// Exit codes: 0 stopped, 2 a start-up problem to fix (message on stderr), anything else a crash.
return await MeridianSiloHostingExtensions.RunSiloAsync(args);
