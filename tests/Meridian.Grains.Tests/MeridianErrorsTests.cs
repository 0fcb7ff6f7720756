using Orleans.Runtime;

namespace Meridian.Grains.Tests;

[Trait("Category", "Unit")]
public sealed class MeridianErrorsTests
{
    [Fact]
    public void Translate_MeridianErrorOrCancellation_LetsItThrough()
    {
        Assert.Null(MeridianErrors.Translate(new MeridianNotFoundException("gone"), "X.Get"));
        Assert.Null(MeridianErrors.Translate(new OperationCanceledException(), "X.Get"));
        Assert.Null(MeridianErrors.Translate(new TaskCanceledException(), "X.Get"));
    }

    [Fact]
    public void Translate_TransportFailure_IsUnavailable()
    {
        var error = MeridianErrors.Translate(new TimeoutException("Response did not arrive on time"), "IRegistry.Upsert");
        Assert.Equal(MeridianErrorKind.Unavailable, error!.Kind);
        Assert.Equal("IRegistry.Upsert failed (TimeoutException): Response did not arrive on time", error.Message);
        Assert.Equal(MeridianErrorKind.Unavailable, MeridianErrors.Translate(new SiloUnavailableException("down"), "op")!.Kind);
    }

    [Fact]
    public void IsTranslatedTransport_TransportFailureInsideTheDatacenter_OnlyThoseAreRetried()
    {
        // What the silo's filter sends when a grain could not reach a silo it needed (one just killed): worth a retry.
        Assert.True(MeridianErrors.IsTranslatedTransport(MeridianErrors.Translate(new SiloUnavailableException("down"), "ICa.Get")!));
        Assert.True(MeridianErrors.IsTranslatedTransport(MeridianErrors.Translate(new TimeoutException("late"), "ICa.Get")!));
        // Unavailable too, but retrying cannot help: another datacenter down (the link waited already), a CA key that
        // does not open with the configured key-encryption key.
        Assert.False(MeridianErrors.IsTranslatedTransport(new DatacenterUnreachableException("dc1", "the primary datacenter dc1 is unreachable")));
        Assert.False(MeridianErrors.IsTranslatedTransport(new MeridianException("The CA key of root r1 in datacenter dc1 cannot be opened: …", MeridianErrorKind.Unavailable)));
        Assert.False(MeridianErrors.IsTranslatedTransport(MeridianErrors.Translate(new InvalidOperationException("bug"), "ICa.Get")!));
        Assert.False(MeridianErrors.IsTranslatedTransport(new TimeoutException("raw")));
    }

    [Fact]
    public void Translate_AnyOtherException_IsInternalOneLineWithoutSecretsOrInner()
    {
        var pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\n-----END EC PRIVATE KEY-----";
        var error = MeridianErrors.Translate(
            new InvalidOperationException($"cannot read\nrow {pem}\r\n  Host=db;Password=s3cret;Username=meridian", new IOException("disk")),
            "ICa.GetRoots");
        Assert.Equal(MeridianErrorKind.Internal, error!.Kind);
        Assert.Equal("ICa.GetRoots failed (InvalidOperationException): cannot read row [private key redacted] Host=db;Password=[redacted];Username=meridian",
            error.Message);
        Assert.Null(error.InnerException);
    }
}
