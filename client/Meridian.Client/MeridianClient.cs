using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Meridian.Grains;
using Microsoft.Extensions.Options;

namespace Meridian.Client;

/// <summary><see cref="IMeridianClient"/> over an Orleans <see cref="IClusterClient"/> connected to one datacenter.</summary>
public sealed class MeridianClient(IClusterClient cluster, IOptions<MeridianClientOptions> options) : IMeridianClient
{
    private readonly MeridianClientOptions _options = options.Value;

    /// <inheritdoc />
    public string Datacenter => _options.Datacenter;

    /// <inheritdoc />
    public Task<IntentionWriteResultDto> UpsertIntentionAsync(IntentionDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.UpsertAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionWriteResultDto> DeleteIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.DeleteAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionDto> GetIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default)
        => Call(() => Registry.GetAsync(intention, cancellationToken));

    /// <inheritdoc />
    public Task<IntentionListDto> ListIntentionsAsync(CancellationToken cancellationToken = default)
        => Call(() => Registry.ListAsync(cancellationToken));

    /// <inheritdoc />
    public Task<IntentionMatchDto> MatchIntentionsAsync(string by, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
        => Call(() => Registry.MatchAsync(by, [.. names], cancellationToken));

    /// <inheritdoc />
    public Task<bool> CheckIntentionAsync(string source, string destination, CancellationToken cancellationToken = default)
        => Call(() => Authorizer.CheckAsync(source, destination));

    /// <inheritdoc />
    public Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request, CancellationToken cancellationToken = default)
        => Call(() => Authorizer.AuthorizeAsync(request));

    /// <inheritdoc />
    public Task<CaRootListDto> GetCaRootsAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.GetRootsAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CaConfigurationDto> GetCaConfigurationAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.GetConfigurationAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CaConfigurationDto> SetCaConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default)
        => Call(() => Ca.SetConfigurationAsync(configuration, cancellationToken));

    /// <inheritdoc />
    public Task<CaRootListDto> RotateCaAsync(CancellationToken cancellationToken = default)
        => Call(() => Ca.RotateAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default)
        => Call(() => Ca.AdoptPrimaryAsync(trustDomain, cancellationToken));

    /// <inheritdoc />
    public Task<IssuedCertificateDto> GetCertificateAsync(string service, string? waitNewerThanSerial = null, TimeSpan? maxWait = null, CancellationToken cancellationToken = default)
    {
        var grain = cluster.GetGrain<IServiceCertificateGrain>($"{Datacenter}/{service}");
        return string.IsNullOrEmpty(waitNewerThanSerial)
            ? Call(() => grain.GetAsync(cancellationToken))
            : Call(() => grain.WaitForNewerAsync(waitNewerThanSerial, maxWait ?? TimeSpan.FromMinutes(5), cancellationToken));
    }

    /// <inheritdoc />
    public Task<IssuedCertificateDto> SignCertificateAsync(string service, string csrPem, CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<ILeafSignerGrain>(Datacenter).SignCsrAsync(service, csrPem, cancellationToken));

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReplicationStatusDto>> GetReplicationStatusAsync(CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(cancellationToken);
        return status.ReplicationStatuses();
    }

    /// <inheritdoc />
    public Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<IDatacenterGrain>(Datacenter).AdoptPrimaryStateAsync(cancellationToken));

    /// <inheritdoc />
    public Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => Call(() => Registry.WaitForReplicatedAsync(primaryIndex, maxWait, cancellationToken));

    /// <inheritdoc />
    public Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
        => Call(() => cluster.GetGrain<IDatacenterGrain>(Datacenter).GetStatusAsync(cancellationToken));

    private IIntentionRegistryGrain Registry => cluster.GetGrain<IIntentionRegistryGrain>(Datacenter);
    private IAuthorizerGrain Authorizer => cluster.GetGrain<IAuthorizerGrain>(Datacenter);
    private ICertificateAuthorityGrain Ca => cluster.GetGrain<ICertificateAuthorityGrain>(Datacenter);

    // Every call carries the caller's token in the request context (read by the silo, never logged). A failure that is
    // neither a Meridian error nor the connection's own (timeout, unreachable gateway: the CLI names the gateway for
    // those) becomes a Meridian error here too: an exception the silo could not turn into one (a grain that failed to
    // activate) or that this client cannot decode (no codec) must not reach callers as an Orleans internal.
    private async Task<T> Call<T>(Func<Task<T>> call, [CallerMemberName] string operation = "")
    {
        CallerToken.Set(_options.Token);
        try
        {
            return await call();
        }
        catch (Exception e) when (!MeridianErrors.IsTransport(e) && MeridianErrors.Translate(e, operation) is { } error)
        {
            throw error;
        }
    }
}
