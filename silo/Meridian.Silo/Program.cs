using Meridian.Silo;
using Microsoft.AspNetCore.Builder;

// A Meridian datacenter silo. Configuration: appsettings.json, MERIDIAN__* environment variables, command line.
var builder = WebApplication.CreateBuilder(args);
builder.AddMeridianSilo();
var app = builder.Build();
app.MapMeridianEndpoints();
await app.RunAsync();
