using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Meridian.Client;
using Meridian.Core.Validation;
using Meridian.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meridian.Proxy;

/// <summary>
/// The built-in sidecar proxy (issue 17; Consul's <c>consul connect proxy</c>, see
/// https://developer.hashicorp.com/consul/commands/connect/proxy): a public listener that accepts only mutual TLS from
/// callers the datacenter authorizes and forwards them to the local application, and one local listener per upstream
/// that dials the destination's sidecar over mutual TLS. It talks to Meridian only through <see cref="IMeridianClient"/>.
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="StartAsync"/> gets the certificate, binds every listener, registers the proxy (when asked) and
/// returns when it is ready. <see cref="StopAsync"/> drains: it deregisters, stops accepting, lets open connections
/// finish up to <see cref="ProxyOptions.DrainTimeout"/>, then closes the rest.
/// </remarks>
public sealed partial class ConnectProxy : IAsyncDisposable
{
    private readonly IMeridianClient _client;
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly ProxyIdentity _identity;
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _abortConnections = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    // Authorize decisions by caller URI, with the intentions index they were made at (0: made without the watch).
    private readonly ConcurrentDictionary<string, (AuthorizeResultDto Decision, ulong IntentionsIndex, long Expires)> _decisions = new();
    private static readonly TimeSpan WatchedDecisionMaxAge = TimeSpan.FromMinutes(1);
    private ulong _intentionsIndex; // the watch's latest index; 0 while it is not running
    private Task? _intentionsWatch;
    private readonly List<(Socket Socket, Task Loop)> _listeners = [];
    private readonly List<(ProxyUpstream Upstream, IPEndPoint Endpoint)> _upstreamEndpoints = [];
    private Task? _heartbeat;
    private long _nextConnection;
    private bool _registered;
    private int _stopped;

    /// <summary>A proxy for <paramref name="options"/>; throws <see cref="DomainValidationException"/> listing every problem.</summary>
    public ConnectProxy(IMeridianClient client, ProxyOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        DomainValidationException.ThrowIfAny(options.Validate());
        (_client, _options, _logger) = (client, options, logger ?? NullLogger.Instance);
        _identity = new ProxyIdentity(client, options.Service, _logger);
        Counters = new ProxyCounters(options.Service);
    }

    /// <summary>Accepted, refused and failed connections and bytes carried by this proxy.</summary>
    public ProxyCounters Counters { get; }

    /// <summary>The certificate and bundle in use.</summary>
    public ProxyIdentity Identity => _identity;

    /// <summary>Where the public listener is bound (null without one); the actual port when 0 was asked.</summary>
    public IPEndPoint? InboundEndpoint { get; private set; }

    /// <summary>Each upstream and where its local listener is bound.</summary>
    public IReadOnlyList<(ProxyUpstream Upstream, IPEndPoint Endpoint)> UpstreamEndpoints => _upstreamEndpoints;

    /// <summary>The check ID of the registered heartbeat (<c>service:&lt;proxy id&gt;</c>).</summary>
    public string CheckId => "service:" + _options.EffectiveProxyId;

    /// <summary>Gets the first certificate, binds every listener, registers (when asked). Returns when ready.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _identity.StartAsync(cancellationToken);
        if (_options.Listen is { } listen)
        {
            if (_options.AuthorizeCacheTtl > TimeSpan.Zero) _intentionsWatch = Task.Run(() => WatchIntentionsAsync(_stopAccepting.Token));
            var socket = Bind(listen);
            InboundEndpoint = (IPEndPoint)socket.LocalEndPoint!;
            _listeners.Add((socket, Task.Run(() => AcceptLoopAsync(socket, s => HandleInboundAsync(s)))));
        }
        foreach (var upstream in _options.Upstreams)
        {
            var socket = Bind(new IPEndPoint(IPAddress.Parse(upstream.LocalBindAddress), upstream.LocalBindPort));
            _upstreamEndpoints.Add((upstream, (IPEndPoint)socket.LocalEndPoint!));
            _listeners.Add((socket, Task.Run(() => AcceptLoopAsync(socket, s => HandleUpstreamAsync(upstream, s)))));
        }
        if (_options.ShouldRegister)
        {
            await RegisterAsync(cancellationToken);
            _heartbeat = Task.Run(() => HeartbeatAsync(_stopAccepting.Token));
        }
        LogReady(_logger, _options.Service, InboundEndpoint?.ToString() ?? "none", _options.LocalApp is { } app ? $"{app.Host}:{app.Port}" : "none",
            string.Join(", ", _upstreamEndpoints.Select(u => $"{u.Endpoint} -> {u.Upstream}")));
    }

    /// <summary>
    /// Drains: deregisters (so nobody is sent here any more), stops accepting, waits for open connections up to
    /// <see cref="ProxyOptions.DrainTimeout"/> (or until <paramref name="cancellationToken"/>), then closes the rest.
    /// Idempotent.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        var open = _connections.Count;
        LogDraining(_logger, _options.Service, open, _options.DrainTimeout.TotalSeconds);
        await _stopAccepting.CancelAsync();
        foreach (var (socket, _) in _listeners) socket.Dispose();
        foreach (var (_, loop) in _listeners) await loop;
        if (_heartbeat is not null) await _heartbeat;
        if (_intentionsWatch is not null) await _intentionsWatch;
        if (_registered) await DeregisterAsync();

        var pending = Task.WhenAll(_connections.Values);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.DrainTimeout);
        try
        {
            await pending.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(_logger, _options.Service, _connections.Count);
            await _abortConnections.CancelAsync();
            try { await pending; } catch (Exception) { /* each connection already logged and counted its end */ }
        }
        catch (Exception)
        {
            // Connection tasks never throw (they catch and count); nothing to add.
        }
        await _identity.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopAccepting.Dispose();
        _abortConnections.Dispose();
    }

    private static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(endpoint);
            socket.Listen(512);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket listener, Func<Socket, Task> handle)
    {
        while (!_stopAccepting.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptAsync(_stopAccepting.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopAccepting.IsCancellationRequested) return;
                // A connection reset before accept, or a transient shortage (file descriptors): the listener itself is
                // fine. A short pause keeps a persistent error from spinning a core.
                try { await Task.Delay(50, _stopAccepting.Token); } catch (OperationCanceledException) { return; }
                continue;
            }
            accepted.NoDelay = true;
            var id = Interlocked.Increment(ref _nextConnection);
            var task = Task.Run(async () =>
            {
                try
                {
                    await handle(accepted);
                }
                finally
                {
                    accepted.Dispose();
                    _connections.TryRemove(id, out _);
                }
            });
            _connections[id] = task;
        }
    }

    private async Task HandleInboundAsync(Socket socket)
    {
        var snapshot = _identity.Current;
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        string? refusal = null;
        Core.Identity.ServiceSpiffeId? peer = null;
        var peerSerial = "";
        var policy = snapshot.ChainPolicy();
        policy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(PeerVerification.ClientAuthOid));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abortConnections.Token);
            timeout.CancelAfter(_options.HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = snapshot.Context,
                ClientCertificateRequired = true,
                // Every connection proves its certificate afresh (no resumed sessions), so a rotation is seen at once.
                AllowTlsResume = false,
                CertificateChainPolicy = policy,
                RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
                    (refusal = PeerVerification.Check(cert, chain, errors, null, out peer, out peerSerial)) is null,
            }, timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Refused(true, remote, refusal ?? $"TLS handshake failed: {ex.Message}");
            return;
        }
        var caller = peer!; // set by the validation callback, which accepted the handshake
        _options.OnHandshake?.Invoke(new ProxyHandshake(true, snapshot.Certificate.SerialNumber, caller.Uri, peerSerial));

        // Authorize before anything reaches the application: a refused caller gets no byte through.
        AuthorizeResultDto decision;
        try
        {
            decision = await AuthorizeAsync(caller.Uri, peerSerial);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Refused(true, remote, $"authz call failed: {ex.Message}");
            return;
        }
        if (!decision.Authorized)
        {
            Refused(true, remote, $"authz denied for {caller.Uri}: {decision.Reason}");
            return;
        }

        var app = _options.LocalApp!;
        using var local = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abortConnections.Token);
            timeout.CancelAfter(_options.ConnectTimeout);
            await local.ConnectAsync(app.Host, app.Port, timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Counters.Fail(true);
            LogLocalAppUnreachable(_logger, _options.Service, $"{app.Host}:{app.Port}", remote, ex.Message);
            return;
        }
        Counters.Accepted(true);
        await PumpAsync(true, ssl, socket, new NetworkStream(local, ownsSocket: false), local, remote);
    }

    private async Task<AuthorizeResultDto> AuthorizeAsync(string uri, string serial)
    {
        var ttl = _options.AuthorizeCacheTtl;
        var now = Environment.TickCount64;
        // Read before asking: a change during the call leaves the decision stamped with the older index, so it is not reused.
        var watched = Volatile.Read(ref _intentionsIndex);
        if (ttl > TimeSpan.Zero && _decisions.TryGetValue(uri, out var cached) && cached.IntentionsIndex == watched && cached.Expires > now)
            return cached.Decision;
        var decision = await _client.AuthorizeAsync(new AuthorizeRequestDto { Target = _options.Service, ClientCertURI = uri, ClientCertSerial = serial },
            _abortConnections.Token);
        if (ttl > TimeSpan.Zero)
            _decisions[uri] = (decision, watched, now + (long)(watched == 0 ? ttl : WatchedDecisionMaxAge).TotalMilliseconds);
        return decision;
    }

    // Follows the datacenter's intentions with blocking reads and drops every cached decision when they change (as
    // Consul's agent invalidates its authorize cache on an intentions watch). When the watch fails, decisions fall back
    // to the short TTL until it runs again.
    private async Task WatchIntentionsAsync(CancellationToken ct)
    {
        var failures = 0;
        ulong index = 0;
        var reported = false; // one line per outage, not one per retry
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var answer = await _client.WatchIntentionsAsync(index, TimeSpan.FromMinutes(5), ct);
                if (answer.Index != index)
                {
                    index = answer.Index;
                    Volatile.Write(ref _intentionsIndex, index);
                    _decisions.Clear();
                }
                (failures, reported) = (0, false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (!reported) LogIntentionsWatchFailed(_logger, _options.Service, ex.Message, _options.AuthorizeCacheTtl.TotalSeconds);
                reported = true;
                (index, _intentionsIndex) = (0, 0);
                _decisions.Clear();
                var retry = Core.Replication.Backoff.Delay(++failures, Random.Shared.NextDouble(), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));
                try { await Task.Delay(retry, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task HandleUpstreamAsync(ProxyUpstream upstream, Socket local)
    {
        var remote = local.RemoteEndPoint?.ToString() ?? "?";
        UpstreamResolutionResult resolved;
        try
        {
            // Resolved afresh for every connection (Consul's built-in proxy does the same): a failover or a change of
            // instances applies to the next connection, without a polling loop per upstream.
            resolved = await _client.ResolveUpstreamAsync(null, new UpstreamDto
            {
                DestinationType = upstream.DestinationType,
                DestinationName = upstream.DestinationName,
                Datacenter = upstream.Datacenter,
            }, _abortConnections.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Counters.Fail(false);
            LogNoEndpoints(_logger, _options.Service, upstream.ToString(), $"resolution failed: {ex.Message}");
            return;
        }
        if (resolved.Endpoints.Count == 0)
        {
            Counters.Fail(false);
            LogNoEndpoints(_logger, _options.Service, upstream.ToString(), $"no healthy instance in {resolved.Datacenter}");
            return;
        }
        // Random order (Consul picks a random healthy instance); on a failed dial the next one is tried.
        var candidates = resolved.Endpoints.ToArray();
        Random.Shared.Shuffle(candidates);
        string? lastRefusal = null;
        foreach (var endpoint in candidates)
        {
            var snapshot = _identity.Current;
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            SslStream? ssl = null;
            string? refusal = null;
            var peerSerial = "";
            Core.Identity.ServiceSpiffeId? peer = null;
            try
            {
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abortConnections.Token))
                {
                    timeout.CancelAfter(_options.ConnectTimeout);
                    await socket.ConnectAsync(endpoint.Address, endpoint.Port, timeout.Token);
                }
                var policy = snapshot.ChainPolicy();
                policy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(PeerVerification.ServerAuthOid));
                ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abortConnections.Token))
                {
                    timeout.CancelAfter(_options.HandshakeTimeout);
                    await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = upstream.DestinationName,
                        ClientCertificateContext = snapshot.Context,
                        AllowTlsResume = false,
                        CertificateChainPolicy = policy,
                        RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
                            (refusal = PeerVerification.Check(cert, chain, errors, endpoint.SpiffeId, out peer, out peerSerial)) is null,
                    }, timeout.Token);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (ssl is not null) await ssl.DisposeAsync();
                socket.Dispose();
                if (refusal is not null)
                {
                    lastRefusal = refusal;
                    LogUpstreamRefused(_logger, _options.Service, upstream.ToString(), $"{endpoint.Address}:{endpoint.Port}", refusal);
                }
                else LogDialFailed(_logger, _options.Service, upstream.ToString(), $"{endpoint.Address}:{endpoint.Port}", ex.Message);
                continue;
            }
            _options.OnHandshake?.Invoke(new ProxyHandshake(false, snapshot.Certificate.SerialNumber, peer!.Uri, peerSerial));
            Counters.Accepted(false);
            try
            {
                await PumpAsync(false, new NetworkStream(local, ownsSocket: false), local, ssl, socket, remote);
            }
            finally
            {
                await ssl.DisposeAsync();
                socket.Dispose();
            }
            return;
        }
        if (lastRefusal is not null) Counters.Refuse(false);
        else Counters.Fail(false);
    }

    private async Task PumpAsync(bool inbound, Stream a, Socket aSocket, Stream b, Socket bSocket, string remote)
    {
        Counters.Open(inbound, 1);
        try
        {
            await BytePump.RunAsync(a, aSocket, b, bSocket, n => Counters.Carried(inbound, n), _abortConnections.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Counters.Fail(inbound);
            LogConnectionFailed(_logger, _options.Service, inbound ? "inbound" : "upstream", remote, ex.Message);
        }
        finally
        {
            Counters.Open(inbound, -1);
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    private void Refused(bool inbound, string remote, string reason)
    {
        Counters.Refuse(inbound);
        LogInboundRefused(_logger, _options.Service, remote, reason);
    }

    private string AdvertiseAddress()
    {
        if (!string.IsNullOrEmpty(_options.AdvertiseAddress)) return _options.AdvertiseAddress;
        var address = InboundEndpoint!.Address;
        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : address.ToString();
    }

    private static string GoDuration(TimeSpan t) => t.TotalSeconds == Math.Floor(t.TotalSeconds)
        ? ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
        : ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    private async Task RegisterAsync(CancellationToken ct)
    {
        var address = AdvertiseAddress();
        var id = _options.EffectiveProxyId;
        var app = _options.LocalApp!;
        await _client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = _options.Node,
            Address = address,
            Service = new NodeServiceDto
            {
                Kind = "connect-proxy",
                ID = id,
                Service = _options.Service + "-sidecar-proxy",
                Address = address,
                Port = InboundEndpoint!.Port,
                Proxy = new ProxyDto
                {
                    DestinationServiceName = _options.Service,
                    DestinationServiceID = _options.Service,
                    LocalServiceAddress = app.Host,
                    LocalServicePort = app.Port,
                    Upstreams = [.. _upstreamEndpoints.Select(u => new UpstreamDto
                    {
                        DestinationType = u.Upstream.DestinationType,
                        DestinationName = u.Upstream.DestinationName,
                        Datacenter = u.Upstream.Datacenter,
                        LocalBindAddress = u.Endpoint.Address.ToString(),
                        LocalBindPort = u.Endpoint.Port,
                    })],
                },
            },
            Check = new HealthCheckDto
            {
                Node = _options.Node,
                CheckID = CheckId,
                Name = "proxy heartbeat",
                Status = "passing",
                Output = "proxy started",
                ServiceID = id,
                Type = "ttl",
                Definition = new HealthCheckDefinitionDto { TTL = GoDuration(_options.CheckTtl) },
            },
        }, ct);
        _registered = true;
        LogRegistered(_logger, _options.Service, id, _options.Node, $"{address}:{InboundEndpoint.Port}");
    }

    private async Task HeartbeatAsync(CancellationToken ct)
    {
        var every = _options.CheckTtl / 3;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, ct);
                await _client.UpdateCheckAsync(CheckId, "passing", _options.Node, "proxy alive", null, ct);
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogHeartbeatFailed(_logger, _options.Service, CheckId, ++failures, ex.Message);
            }
        }
    }

    private async Task DeregisterAsync()
    {
        // Three tries, as Consul's built-in proxy; the TTL check turns critical by itself if all fail.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.DeregisterCatalogAsync(new CatalogDeregisterRequestDto { Node = _options.Node, ServiceID = _options.EffectiveProxyId }, timeout.Token);
                LogDeregistered(_logger, _options.Service, _options.EffectiveProxyId);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogHeartbeatFailed(_logger, _options.Service, _options.EffectiveProxyId, attempt, "deregister: " + ex.Message);
            }
        }
    }
}
