namespace Meridian.Integration.Tests;

/// <summary>A grain whose calls fail with an exception type Orleans has no codec for.</summary>
[Alias("meridian.tests.IFailingGrain")]
public interface IFailingGrain : IGrainWithStringKey
{
    [Alias("Fail")]
    Task FailAsync(string message);
}

public sealed class FailingGrain : Grain, IFailingGrain
{
    public Task FailAsync(string message) => throw new UnserializableException(message);
}

/// <summary>
/// Neither [GenerateSerializer] nor in a System namespace (Orleans' generic exception codec covers only those): like
/// Newtonsoft's or Npgsql's exceptions, it has no codec.
/// </summary>
public sealed class UnserializableException(string message) : Exception(message);
