using System.Net.Sockets;
using Meridian.Client;
using Meridian.Grains;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Meridian.Cli.Tests.Sdk;

/// <summary>The SDK's one mapping from exceptions to failure kinds (what the CLI and the HTTP API answer from).</summary>
[Trait("Category", "Unit")]
public sealed class MeridianFailureTests
{
    public static TheoryData<Exception, MeridianErrorKind, string> Errors => new()
    {
        { new MeridianNotFoundException("intention not found"), MeridianErrorKind.NotFound, "intention not found" },
        { new MeridianPermissionDeniedException("Permission denied"), MeridianErrorKind.PermissionDenied, "Permission denied" },
        { new NotPrimaryDatacenterException("dc1", "not the primary"), MeridianErrorKind.NotPrimary, "not the primary (writes go to the primary datacenter dc1)" },
        { new MeridianUnreachableException("cannot reach datacenter dc1 at gateway 127.0.0.1:30000"), MeridianErrorKind.Unavailable, "cannot reach datacenter dc1 at gateway 127.0.0.1:30000" },
        { new MeridianWrongDatacenterException("127.0.0.1:30001", "dc1", "dc2"), MeridianErrorKind.Unavailable, "gateway 127.0.0.1:30001 serves datacenter dc2, not dc1" },
        { new DatacenterUnreachableException("dc1", "primary dc1 unreachable"), MeridianErrorKind.Unavailable, "primary dc1 unreachable" },
        { new TimeoutException("Response did not arrive on time"), MeridianErrorKind.Unavailable, "Response did not arrive on time" },
        { new SiloUnavailableException("silo gone"), MeridianErrorKind.Unavailable, "silo gone" },
        { new ConnectionFailedException("refused"), MeridianErrorKind.Unavailable, "refused" },
        { new GatewayTooBusyException("busy"), MeridianErrorKind.Unavailable, "busy" },
        { new SocketException((int)SocketError.ConnectionRefused), MeridianErrorKind.Unavailable, new SocketException((int)SocketError.ConnectionRefused).Message },
        { new RateLimitedException(), MeridianErrorKind.RateLimited, "Rate limit reached, try again later" },
        { new CaNotInitializedException("CA is uninitialized and unable to sign certificates yet"), MeridianErrorKind.NotReady, "CA is uninitialized and unable to sign certificates yet" },
        { new InvalidOperationException("boom"), MeridianErrorKind.Internal, "boom" },
        { new MeridianException("primary unreachable", MeridianErrorKind.Unavailable), MeridianErrorKind.Unavailable, "primary unreachable" },
        { new MeridianException("bad value", MeridianErrorKind.Validation), MeridianErrorKind.Validation, "bad value" },
        // The first known exception in the chain wins, through wrappers and aggregates.
        { new AggregateException(new InvalidOperationException("x", new MeridianUnreachableException("gone"))), MeridianErrorKind.Unavailable, "gone" },
        { new AggregateException(new InvalidOperationException("x"), new MeridianNotFoundException("missing")), MeridianErrorKind.NotFound, "missing" },
        { new InvalidOperationException("host failed", new TimeoutException("no answer")), MeridianErrorKind.Unavailable, "no answer" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Classify_KindAndMessage(Exception error, MeridianErrorKind kind, string message)
    {
        var failure = MeridianFailure.Classify(error);
        Assert.Equal(kind, failure.Kind);
        Assert.Equal(message, failure.Message);
        Assert.Empty(failure.Problems);
    }

    [Fact]
    public void Classify_TransportFailure_NamesTheDatacenterAndGateway()
    {
        var failure = MeridianFailure.Classify(new TimeoutException("no answer"), "dc7", "10.1.2.3:30005");
        Assert.Equal(MeridianErrorKind.Unavailable, failure.Kind);
        Assert.Equal("cannot reach datacenter dc7 at gateway 10.1.2.3:30005: no answer", failure.Message);
    }

    [Fact]
    public void Classify_Validation_ListsEveryProblemWithItsField()
    {
        var invalid = new MeridianValidationException([
            new ValidationProblemDto("SourceName", "required", "SourceName: must be set"),
            new ValidationProblemDto("Action", "invalid_value", "must be allow or deny"),
        ]);
        var failure = MeridianFailure.Classify(new AggregateException(invalid));
        Assert.Equal(MeridianErrorKind.Validation, failure.Kind);
        Assert.Same(invalid, failure.Exception);
        Assert.Equal(["SourceName", "Action"], failure.Problems.Select(p => p.Field));
        Assert.Equal(["SourceName: must be set", "Action: must be allow or deny"], failure.Problems.Select(MeridianFailure.ProblemLine));
    }

    [Fact]
    public void Classify_RateLimitAndNotPrimary_CarryWhatACallerAnswersWith()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), MeridianFailure.Classify(new RateLimitedException(TimeSpan.FromSeconds(2))).RetryAfter);
        Assert.Equal("dc1", MeridianFailure.Classify(new NotPrimaryDatacenterException("dc1", "no")).PrimaryDatacenter);
        Assert.Null(MeridianFailure.Classify(new InvalidOperationException("x")).RetryAfter);
    }

    [Fact]
    public void TryClassify_LooksOnlyAtTheExceptionItself()
    {
        Assert.False(MeridianFailure.TryClassify(new InvalidOperationException("x", new TimeoutException("t")), null, null, out var none));
        Assert.Null(none);
        Assert.True(MeridianFailure.TryClassify(new TimeoutException("t"), "dc1", null, out var failure));
        Assert.Equal("cannot reach datacenter dc1: t", failure.Message);
    }
}
