namespace Meridian.Grains.Tests;

/// <summary>
/// A block of a document that a test generates from the code (docs/acl.md's method table, docs/metrics.md's metrics),
/// between <c>&lt;!-- name:begin (Test) --&gt;</c> and <c>&lt;!-- name:end --&gt;</c>: the test fails, printing the block to
/// paste, whenever the code and the document differ, so the document cannot drift.
/// </summary>
internal static class GeneratedDocs
{
    /// <summary>Asserts that the block <paramref name="name"/> of <paramref name="document"/> (relative to the repository) is <paramref name="expected"/>.</summary>
    public static void AssertBlock(string document, string name, string test, string expected)
    {
        var begin = $"<!-- {name}:begin ({test}) -->";
        var end = $"<!-- {name}:end -->";
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), document)).ReplaceLineEndings("\n");
        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        var stop = doc.IndexOf(end, StringComparison.Ordinal);
        Assert.True(start >= 0 && stop > start, $"{document} has no {begin} … {end} block; add it with:\n{expected}");
        var actual = doc[(start + begin.Length)..stop].Trim('\n');
        Assert.True(expected == actual, $"{document}'s {name} block differs from the code; replace it with:\n{expected}");
    }

    /// <summary>The repository's root (the directory holding Orleans.sln).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Orleans.sln above {AppContext.BaseDirectory}");
    }
}
