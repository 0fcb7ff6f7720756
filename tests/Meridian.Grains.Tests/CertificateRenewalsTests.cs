using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

[Trait("Category", "Unit")]
public sealed class RenewalQueueTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Add_ReportsWhenTheEntryBecomesTheEarliest()
    {
        var q = new RenewalQueue();

        Assert.True(q.Add("dc1/a", T0.AddHours(2)));   // first entry
        Assert.False(q.Add("dc1/b", T0.AddHours(3)));  // later: a sleeping loop need not wake
        Assert.True(q.Add("dc1/c", T0.AddHours(1)));   // earlier: it must
        Assert.False(q.Add("dc1/d", T0.AddHours(1)));  // equal is not earlier
        Assert.Equal(4, q.Count);
    }

    [Fact]
    public void TakeDue_ReturnsOnlyDueEntries_EarliestFirst_AndTheNextDueTime()
    {
        var q = new RenewalQueue();
        q.Add("dc1/late", T0.AddMinutes(30));
        q.Add("dc1/b", T0.AddSeconds(2));
        q.Add("dc1/a", T0.AddSeconds(1));
        q.Add("dc1/now", T0);

        var (due, next) = q.TakeDue(T0.AddSeconds(2));

        Assert.Equal(["dc1/now", "dc1/a", "dc1/b"], due);
        Assert.Equal(T0.AddMinutes(30), next);
        Assert.Equal(1, q.Count);
        var (none, stillNext) = q.TakeDue(T0.AddMinutes(29));
        Assert.Empty(none);
        Assert.Equal(T0.AddMinutes(30), stillNext);
        var (last, after) = q.TakeDue(T0.AddMinutes(30));
        Assert.Equal(["dc1/late"], last);
        Assert.Null(after);
        Assert.Equal(0, q.Count);
    }

    [Fact]
    public void SeveralEntriesPerKey_AreAllKept_SoASupersededOneCannotHideALaterRenewal()
    {
        // A rotation slot (soon) and the renewal of the certificate issued meanwhile (later): both must stay.
        var q = new RenewalQueue();
        q.Add("dc1/web", T0.AddHours(50));
        q.Add("dc1/web", T0.AddSeconds(10));

        Assert.Equal([T0.AddSeconds(10), T0.AddHours(50)], q.DueTimesOf("dc1/web"));
        Assert.Equal(["dc1/web"], q.TakeDue(T0.AddMinutes(1)).Due);
        Assert.Equal([T0.AddHours(50)], q.DueTimesOf("dc1/web"));
    }

    [Fact]
    public void Add_EmptyKey_Throws() => Assert.Throws<ArgumentException>(() => new RenewalQueue().Add("", T0));
}

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class CertificateRenewalsTests(ClusterFixture fx)
{
    private IServiceCertificateGrain Cert(string service) => fx.Client.GetGrain<IServiceCertificateGrain>($"{fx.PrimaryDatacenter}/{service}");

    private IEnumerable<CertificateRenewals> Renewals => fx.SiloServices.Select(s => s.GetRequiredService<CertificateRenewals>());

    [Fact]
    public async Task Issue_PutsTheRenewalOnTheHostingSilosSchedule_Inside60To90PercentOfTheLifetime()
    {
        await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).InitializeAsync();
        await fx.WaitForSignersAsync();
        var key = $"{fx.PrimaryDatacenter}/svc-{Guid.NewGuid():N}";

        var cert = await fx.Client.GetGrain<IServiceCertificateGrain>(key).GetAsync();

        // One silo (the one hosting the activation) holds the renewal, inside the window. A rotation by an earlier test
        // whose re-issue plan is made just now may add a slot for this key too (harmless: the grain finds it current).
        var holders = Renewals.Where(r => r.Queue.DueTimesOf(key).Count > 0).ToList();
        var entries = Assert.Single(holders).Queue.DueTimesOf(key);
        var life = cert.ValidBefore - cert.ValidAfter;
        Assert.Contains(entries, at => at >= cert.ValidAfter + life * 0.6 - TimeSpan.FromSeconds(1) && at <= cert.ValidAfter + life * 0.9 + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task RenewIfDue_BeforeTheRenewalTime_KeepsTheCertificateAndKey()
    {
        await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).InitializeAsync();
        await fx.WaitForSignersAsync();
        var grain = Cert($"svc-{Guid.NewGuid():N}");
        var before = await grain.GetAsync();

        await grain.RenewIfDueAsync(); // one-way: the next call runs after it in the activation (non-reentrant)
        var after = await grain.GetAsync();

        Assert.Equal(before.SerialNumber, after.SerialNumber);
        Assert.Equal(before.PrivateKeyPEM, after.PrivateKeyPEM);
    }
}
