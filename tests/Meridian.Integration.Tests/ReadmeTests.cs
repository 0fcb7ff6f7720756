using System.Text.RegularExpressions;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>The README's promises, checked the way a newcomer would follow them.</summary>
[Trait("Category", "EndToEnd")]
public sealed class ReadmeTests(DevFixture fx) : IClassFixture<DevFixture>
{
    // A new project restores and builds the SDK's project graph: minutes on a busy 2-core machine, not seconds.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task SdkSnippet_PastedIntoANewConsoleApp_BuildsAndRunsAgainstDev()
    {
        var snippet = CodeBlockAfter(await File.ReadAllTextAsync(Path.Combine(Binaries.Repository, "README.md")), "### SDK", "csharp");
        var dir = Directory.CreateTempSubdirectory("meridian-readme-sdk-");
        try
        {
            // Exactly the steps the README gives: a new console app, a reference to the SDK project, the snippet as Program.cs.
            var app = Path.Combine(dir.FullName, "app");
            Succeeded(await Commands.RunAsync("dotnet", BuildTimeout, "new", "console", "-o", app, "--no-restore"));
            Succeeded(await Commands.RunAsync("dotnet", BuildTimeout, "add", app, "reference",
                Path.Combine(Binaries.Repository, "client", "Meridian.Client", "Meridian.Client.csproj")));
            // The only edit: this dev process's gateway instead of the default 127.0.0.1:30000.
            Assert.Contains("\"127.0.0.1:30000\"", snippet, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), snippet.Replace("127.0.0.1:30000", fx.Dev.Gateway, StringComparison.Ordinal));

            var run = Succeeded(await Commands.RunAsync("dotnet", BuildTimeout, "run", "--project", app));

            Assert.Matches(new Regex(@"spiffe://[0-9a-f-]+\.consul/ns/default/dc/dc1/svc/web serial [0-9a-f:]+, valid until "), run.Stdout);
            // The SDK is quiet by default: only the app's own line and its host's lifetime notes, no Orleans logging
            // (the snippet used to print ~50 lines of it).
            Assert.DoesNotContain("Orleans", run.Stdout + run.Stderr, StringComparison.Ordinal);
            var written = Cli.Json(await fx.Dev.CliAsync("intention", "get", "--source", "web", "--destination", "db", "--json"));
            Assert.Equal("allow", written.GetProperty("Action").GetString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The first fenced block of <paramref name="language"/> after the line <paramref name="heading"/>.</summary>
    private static string CodeBlockAfter(string markdown, string heading, string language)
    {
        var at = markdown.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no heading {heading}");
        var match = new Regex("```" + language + "\n(.*?)```", RegexOptions.Singleline).Match(markdown, at);
        Assert.True(match.Success, $"README.md has no ```{language} block after {heading}");
        return match.Groups[1].Value;
    }

    private static CommandResult Succeeded(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
