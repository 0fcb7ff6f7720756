namespace Meridian.Integration.Tests.Processes;

/// <summary>
/// Headless Chromium, to look at the dashboard as a person would: a screenshot (PNG) and the rendered DOM of a URL.
/// Each run gets its own profile directory, so tests (and other processes) using Chromium at once do not share one.
/// </summary>
public static class Chromium
{
    private static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome"];

    /// <summary>The browser on PATH; the test fails (never skips) without one.</summary>
    public static string Executable { get; } = Locate();

    /// <summary>
    /// Renders <paramref name="url"/> and returns the DOM and a PNG screenshot of it. <paramref name="settle"/> is
    /// Chromium's virtual time budget: scripts and requests run until the page is idle or the budget is spent. A page
    /// that streams forever (the dashboard's Log Stream) never goes idle: pass <paramref name="streaming"/> to stop it
    /// after <paramref name="settle"/> of real time instead.
    /// </summary>
    public static async Task<(string Dom, byte[] Png)> RenderAsync(string url, TimeSpan settle, bool streaming = false, int width = 1400, int height = 1000)
    {
        var profile = Directory.CreateTempSubdirectory("meridian-chromium-");
        try
        {
            var wait = streaming ? $"--timeout={(int)settle.TotalMilliseconds}" : $"--virtual-time-budget={(int)settle.TotalMilliseconds}";
            string[] common =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
                $"--user-data-dir={profile.FullName}", $"--window-size={width},{height}", wait,
            ];
            var dom = await Commands.RunAsync(Executable, [.. common, "--dump-dom", url]);
            Assert.True(dom.ExitCode == 0, dom.ToString());
            var png = Path.Combine(profile.FullName, "screenshot.png");
            var shot = await Commands.RunAsync(Executable, [.. common, $"--screenshot={png}", url]);
            Assert.True(shot.ExitCode == 0 && File.Exists(png), shot.ToString());
            return (dom.Stdout, await File.ReadAllBytesAsync(png));
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static string Locate()
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator) ?? [];
        return Names.SelectMany(n => path.Select(dir => Path.Combine(dir, n))).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "headless Chromium is required for the dashboard tests: apt-get install -y chromium (.ci/run installs it)");
    }
}
