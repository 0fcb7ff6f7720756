using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class CaStateMachineTests
{
    private const CaManagerState U = CaManagerState.Uninitialized, Ig = CaManagerState.Initializing,
        Id = CaManagerState.Initialized, Rn = CaManagerState.Renewing, Rc = CaManagerState.Reconfiguring;

    [Theory]
    [InlineData(U, "UNINITIALIZED")]
    [InlineData(Ig, "INITIALIZING")]
    [InlineData(Id, "INITIALIZED")]
    [InlineData(Rn, "RENEWING")]
    [InlineData(Rc, "RECONFIGURING")]
    public void WireName_State_IsConsulText(CaManagerState state, string text) => Assert.Equal(text, state.WireName());

    // The full 5 x 5 table of Consul's validated setState.
    [Theory]
    [InlineData(Id, U, true)]
    [InlineData(Id, Ig, false)]
    [InlineData(Id, Id, true)]
    [InlineData(Id, Rn, true)]
    [InlineData(Id, Rc, true)]
    [InlineData(U, U, false)]
    [InlineData(U, Ig, true)]
    [InlineData(U, Id, false)]
    [InlineData(U, Rn, false)]
    [InlineData(U, Rc, true)]
    [InlineData(Ig, U, false)]
    [InlineData(Ig, Ig, false)]
    [InlineData(Ig, Id, false)]
    [InlineData(Ig, Rn, false)]
    [InlineData(Ig, Rc, false)]
    [InlineData(Rn, U, false)]
    [InlineData(Rn, Ig, false)]
    [InlineData(Rn, Id, false)]
    [InlineData(Rn, Rn, false)]
    [InlineData(Rn, Rc, false)]
    [InlineData(Rc, U, false)]
    [InlineData(Rc, Ig, false)]
    [InlineData(Rc, Id, false)]
    [InlineData(Rc, Rn, false)]
    [InlineData(Rc, Rc, false)]
    public void CanTransition_FromTo_FollowsConsulRule(CaManagerState from, CaManagerState to, bool expected)
        => Assert.Equal(expected, CaStateMachine.CanTransition(from, to));

    [Theory]
    [InlineData(U, Ig)]
    [InlineData(U, Rc)]
    [InlineData(Id, Rn)]
    [InlineData(Id, Rc)]
    public void TryBegin_AllowedOperation_EntersOperationState(CaManagerState current, CaManagerState operation)
    {
        var t = CaStateMachine.TryBegin(current, operation);
        Assert.Equal(new CaStateTransition(true, operation, current, operation, null), t);
        Assert.False(t.AlreadyInitialized);
    }

    [Theory]
    [InlineData(U, Rn, "CA is already in state \"UNINITIALIZED\"")]
    [InlineData(Id, Ig, "CA is already in state \"INITIALIZED\"")]
    [InlineData(Ig, Ig, "CA is already in state \"INITIALIZING\"")]
    [InlineData(Ig, Rc, "CA is already in state \"INITIALIZING\"")]
    [InlineData(Ig, Rn, "CA is already in state \"INITIALIZING\"")]
    [InlineData(Rn, Rc, "CA is already in state \"RENEWING\"")]
    [InlineData(Rn, Rn, "CA is already in state \"RENEWING\"")]
    [InlineData(Rn, Ig, "CA is already in state \"RENEWING\"")]
    [InlineData(Rc, Rn, "CA is already in state \"RECONFIGURING\"")]
    [InlineData(Rc, Rc, "CA is already in state \"RECONFIGURING\"")]
    [InlineData(Rc, Ig, "CA is already in state \"RECONFIGURING\"")]
    public void TryBegin_Busy_RefusedWithConsulText(CaManagerState current, CaManagerState operation, string error)
    {
        var t = CaStateMachine.TryBegin(current, operation);
        Assert.Equal(new CaStateTransition(false, operation, current, current, error), t);
        Assert.Equal(error, CaStateMachine.AlreadyInStateMessage(current));
    }

    [Fact]
    public void TryBegin_InitializeWhenInitialized_IsAlreadyInitialized()
    {
        var t = CaStateMachine.TryBegin(Id, Ig);
        Assert.False(t.Succeeded);
        Assert.True(t.AlreadyInitialized);
    }

    [Theory]
    [InlineData(U)]
    [InlineData(Id)]
    public void TryBegin_NonOperationTarget_Throws(CaManagerState target)
        => Assert.Throws<ArgumentOutOfRangeException>(() => CaStateMachine.TryBegin(Id, target));

    [Theory]
    [InlineData(U, Ig, true, Id)]
    [InlineData(U, Ig, false, U)]             // failed initialisation: back to UNINITIALIZED, retried later
    [InlineData(Id, Rn, true, Id)]
    [InlineData(Id, Rn, false, Id)]           // failed renewal: the CA keeps signing with the old intermediate
    [InlineData(Id, Rc, true, Id)]
    [InlineData(Id, Rc, false, Id)]
    [InlineData(U, Rc, true, Id)]             // secondary root update that completed initialisation
    [InlineData(U, Rc, false, U)]             // Meridian: not INITIALIZED after a failed attempt (Consul sets it)
    public void Complete_Outcome_ReturnsToInitializedOrUninitialized(CaManagerState from, CaManagerState operation, bool ok, CaManagerState expected)
    {
        var begun = CaStateMachine.TryBegin(from, operation);
        var after = CaStateMachine.Complete(begun, ok);
        Assert.Equal(expected, after);
        Assert.False(after.IsBusy());
    }

    [Fact]
    public void Complete_RefusedTransition_Throws()
    {
        var refused = CaStateMachine.TryBegin(Rn, Rc);
        Assert.Throws<InvalidOperationException>(() => CaStateMachine.Complete(refused, true));
    }

    [Fact]
    public void Sequence_RenewalDuringReconfiguration_IsExcluded()
    {
        var state = CaStateMachine.Initial;
        var init = CaStateMachine.TryBegin(state, Ig);
        state = init.Current;
        Assert.False(CaStateMachine.TryBegin(state, Rc).Succeeded);
        state = CaStateMachine.Complete(init, succeeded: true);
        var reconfig = CaStateMachine.TryBegin(state, Rc);
        state = reconfig.Current;
        Assert.Equal("CA is already in state \"RECONFIGURING\"", CaStateMachine.TryBegin(state, Rn).Error);
        state = CaStateMachine.Complete(reconfig, succeeded: true);
        Assert.True(CaStateMachine.TryBegin(state, Rn).Succeeded);
        Assert.Equal(U, CaStateMachine.AfterStop);
    }
}
