using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Shell;
using Org.BouncyCastle.Crypto.Digests;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// One SSH-2 server connection: transport (version exchange, KEXINIT, ECDH, NEWKEYS, strict kex,
/// rekeying), user authentication (every attempt captured) and the connection protocol. Runs as one
/// async read loop; replies are written from that loop, so no thread is held per connection.
/// </summary>
public sealed class SshServerSession : IAsyncDisposable
{
    private const int MaxChannels = 10;
    private const int MaxFieldLength = 1024;

    private readonly HoneypotConnection _connection;
    private readonly SshService _service;
    private readonly SshPersona _persona;
    private readonly SshPacketStream _packets;
    private readonly Dictionary<uint, SshChannel> _channels = [];
    private readonly CancellationToken _cancellation;
    private SshHostKeys _hostKeys = null!;

    private string? _clientVersion;
    private byte[]? _serverKexInit;
    private byte[]? _clientKexInit;
    private byte[]? _sessionId;
    private Negotiated? _negotiated;
    private IPacketCipher? _pendingReader;
    private bool _strict;
    private bool _extInfo;
    private bool _initialKexDone;
    private bool _ignoreNextKexPacket;
    private bool _userAuthAccepted;
    private string? _user;
    private string? _keyboardInteractiveUser;
    private int _failures;
    private uint _nextChannelId;
    private bool _connectEmitted;
    private bool _closing;
    private string _disconnectReason = "closed by client";
    private ShellFileSystem? _fileSystem;
    private uint _gexMin;
    private uint _gexPreferred;
    private uint _gexMax;
    private DhGroup? _gexGroup;
    private bool _uploadSlotsReported;

    private sealed record Negotiated(string Kex, string HostKey, string CipherIn, string CipherOut, string MacIn, string MacOut, string CompressionIn, string CompressionOut);

    public SshServerSession(SshService service, HoneypotConnection connection, CancellationToken cancellationToken)
    {
        _service = service;
        _persona = service.Persona;
        _connection = connection;
        _packets = new SshPacketStream(connection.Stream);
        _cancellation = cancellationToken;
        Uploads = new UploadBudget(_persona.MaxUploadBytes);
    }

    public string? AuthenticatedUser => _user;

    public HoneypotConnection Connection => _connection;

    public SshService Service => _service;

    /// <summary>Upload bytes this connection may buffer at once (the per-file cap, shared by all transfers).</summary>
    public UploadBudget Uploads { get; }

    /// <summary>
    /// An upload refused because the connection used all its file slots: one <c>file_skipped</c> event
    /// per connection, however many more times the attacker tries.
    /// </summary>
    public void ReportUploadSlotsExhausted(string path, string method)
    {
        if (!_uploadSlotsReported)
        {
            _uploadSlotsReported = true;
            new SshArtifactStore(_connection, _persona.MaxUploadBytes).ReportSlotsExhausted(path, _user ?? "", method);
        }
    }

    /// <summary>The session's copy-on-write view of the persona filesystem, shared by its channels.</summary>
    public ShellFileSystem FileSystem => _fileSystem ??= _service.CreateFileSystem();

    public async Task RunAsync()
    {
        try
        {
            await _packets.WriteVersionAsync(_persona.Version, _cancellation).ConfigureAwait(false);
            _clientVersion = await _packets.ReadVersionAsync(_cancellation, allowPreamble: false).ConfigureAwait(false);
            _hostKeys = await _service.HostKeysAsync.WaitAsync(_cancellation).ConfigureAwait(false);
            await SendKexInitAsync().ConfigureAwait(false);
            while (!_closing)
            {
                var payload = await _packets.ReadPacketAsync(_cancellation).ConfigureAwait(false);
                await DispatchAsync(payload).ConfigureAwait(false);
            }
        }
        catch (SshProtocolException error)
        {
            _disconnectReason = error.Message;
            if (error.PlainTextReply is { } text)
            {
                await TrySendPlainTextAsync(text).ConfigureAwait(false);
            }
            else
            {
                await TrySendDisconnectAsync(error.Reason, error.Message).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            _disconnectReason = error is OperationCanceledException ? "timeout" : "connection lost";
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels.Values)
        {
            if (channel.Handler is { } handler)
            {
                await handler.DisposeAsync().ConfigureAwait(false);
            }
        }
        _channels.Clear();
        EmitConnect(null);
        // The host publishes the connection's one disconnect event (reason, duration, bytes); this adds ours.
        _connection.SetDisconnectDetails(("detail", _disconnectReason), ("username", _user));
        _packets.Dispose();
    }

    public Task SendAsync(byte[] payload, CancellationToken cancellationToken) => _packets.WritePacketAsync(payload, cancellationToken);

    private async Task TrySendPlainTextAsync(string text)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _connection.Stream.WriteAsync(Encoding.ASCII.GetBytes(text + "\r\n"), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is already gone.
        }
    }

    private async Task TrySendDisconnectAsync(uint reason, string description)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await SendAsync(new SshWriter().Byte(SshMessage.Disconnect).UInt32(reason).String(description).String("").ToArray(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is already gone; nothing left to tell it.
        }
    }

    private async Task DispatchAsync(byte[] payload)
    {
        var type = payload[0];
        var isTransport = type is SshMessage.Disconnect or SshMessage.Ignore or SshMessage.Unimplemented or SshMessage.Debug;
        var isKex = type is SshMessage.KexInit or SshMessage.NewKeys or SshMessage.KexEcdhInit or SshMessage.KexDhGexInit or SshMessage.KexDhGexRequest;
        if (!_initialKexDone && !isKex && (_strict || !isTransport))
        {
            // Strict kex (the Terrapin fix) forbids anything but kex messages before the first NEWKEYS.
            throw new SshProtocolException($"unexpected message {type} during initial key exchange");
        }
        switch (type)
        {
            case SshMessage.Disconnect:
                _closing = true;
                _disconnectReason = "client disconnect";
                return;
            case SshMessage.Ignore or SshMessage.Debug or SshMessage.Unimplemented:
                return;
            case SshMessage.ExtInfo when _initialKexDone:
                // A client's EXT_INFO (we advertise ext-info-s on 9.6+ personas) carries nothing we act on.
                return;
            case SshMessage.KexInit:
                await OnKexInitAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.KexEcdhInit:
                await OnKexInitMessageAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.KexDhGexRequest:
                await OnGexRequestAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.KexDhGexInit:
                await OnGexInitAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.NewKeys:
                await OnNewKeysAsync().ConfigureAwait(false);
                return;
        }
        if (_clientKexInit is not null)
        {
            throw new SshProtocolException($"unexpected message {type} during key exchange");
        }
        switch (type)
        {
            case SshMessage.ServiceRequest:
                await OnServiceRequestAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.UserAuthRequest:
                await OnUserAuthRequestAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.UserAuthInfoResponse:
                await OnKeyboardInteractiveResponseAsync(payload).ConfigureAwait(false);
                return;
        }
        if (_user is null)
        {
            throw new SshProtocolException($"message {type} before authentication");
        }
        switch (type)
        {
            case SshMessage.GlobalRequest:
                await OnGlobalRequestAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.ChannelOpen:
                await OnChannelOpenAsync(payload).ConfigureAwait(false);
                return;
            case SshMessage.ChannelWindowAdjust or SshMessage.ChannelData or SshMessage.ChannelExtendedData or SshMessage.ChannelEof
                or SshMessage.ChannelClose or SshMessage.ChannelRequest or SshMessage.ChannelSuccess or SshMessage.ChannelFailure:
                await OnChannelMessageAsync(payload).ConfigureAwait(false);
                return;
            default:
                await SendAsync(new SshWriter().Byte(SshMessage.Unimplemented).UInt32(_packets.ReceiveSequence - 1).ToArray(), _cancellation).ConfigureAwait(false);
                return;
        }
    }

    // ---- Key exchange (RFC 4253 §7, RFC 5656, RFC 8731) ----

    /// <summary>Host key algorithms of the persona's build that our keys can serve, in the build's order.</summary>
    private IReadOnlyList<string> HostKeyAlgorithms => [.. _persona.Algorithms.HostKeys.Where(_hostKeys.Algorithms.Contains)];

    private async Task SendKexInitAsync()
    {
        var profile = _persona.Algorithms;
        // Like OpenSSH, the kex markers (ext-info-s, strict kex) are only sent in the first KEXINIT.
        var writer = new SshWriter().Byte(SshMessage.KexInit).Raw(RandomNumberGenerator.GetBytes(16))
            .NameList(_initialKexDone ? profile.KeyExchange : [.. profile.KeyExchange, .. profile.KexMarkers])
            .NameList(HostKeyAlgorithms)
            .NameList(profile.Ciphers).NameList(profile.Ciphers)
            .NameList(profile.Macs).NameList(profile.Macs)
            .NameList(profile.Compression).NameList(profile.Compression)
            .NameList([]).NameList([])
            .Boolean(false).UInt32(0);
        _serverKexInit = writer.ToArray();
        await SendAsync(_serverKexInit, _cancellation).ConfigureAwait(false);
    }

    private async Task OnKexInitAsync(byte[] payload)
    {
        if (_clientKexInit is not null)
        {
            throw new SshProtocolException("duplicate KEXINIT");
        }
        var reader = new SshReader(payload);
        reader.ReadByte();
        reader.ReadBytes(16);
        var kex = reader.ReadNameList();
        var hostKeys = reader.ReadNameList();
        var cipherIn = reader.ReadNameList();
        var cipherOut = reader.ReadNameList();
        var macIn = reader.ReadNameList();
        var macOut = reader.ReadNameList();
        var compressionIn = reader.ReadNameList();
        var compressionOut = reader.ReadNameList();
        reader.ReadNameList();
        reader.ReadNameList();
        var guessFollows = reader.ReadBoolean();
        reader.ReadUInt32();

        if (!_initialKexDone)
        {
            _strict = kex.Contains(SshAlgorithms.StrictKexClient) && _persona.Algorithms.KexMarkers.Contains(SshAlgorithms.StrictKexServer);
            _extInfo = kex.Contains(SshAlgorithms.ExtInfoClient);
            if (_strict && _packets.ReceiveSequence != 1)
            {
                throw new SshProtocolException("strict KEX violation: KEXINIT was not the first packet");
            }
            EmitConnect(payload);
        }
        else if (_serverKexInit is null)
        {
            // The client started a rekey: answer with a fresh KEXINIT of our own.
            await SendKexInitAsync().ConfigureAwait(false);
        }

        _clientKexInit = payload;
        var profile = _persona.Algorithms;
        var negotiatedKex = Choose("kex", kex, profile.KeyExchange);
        var hostKey = Choose("host key", hostKeys, HostKeyAlgorithms);
        var encIn = Choose("cipher", cipherIn, profile.Ciphers);
        var encOut = Choose("cipher", cipherOut, profile.Ciphers);
        _negotiated = new Negotiated(
            negotiatedKex,
            hostKey,
            encIn,
            encOut,
            SshAlgorithms.IsAead(encIn) ? "" : Choose("MAC", macIn, profile.Macs),
            SshAlgorithms.IsAead(encOut) ? "" : Choose("MAC", macOut, profile.Macs),
            Choose("compression", compressionIn, profile.Compression),
            Choose("compression", compressionOut, profile.Compression));
        _ignoreNextKexPacket = guessFollows && (kex.FirstOrDefault() != negotiatedKex || hostKeys.FirstOrDefault() != hostKey);
    }

    private static string Choose(string what, string[] client, IReadOnlyList<string> server) =>
        client.FirstOrDefault(server.Contains)
        ?? throw new SshProtocolException($"no matching {what} found", SshProtocolException.KeyExchangeFailed);

    /// <summary>Message 30: ECDH/curve25519 Q_C, or the client's e for a fixed finite-field group.</summary>
    private async Task OnKexInitMessageAsync(byte[] payload)
    {
        if (_clientKexInit is null || _negotiated is null || _serverKexInit is null || _pendingReader is not null || _negotiated.Kex.StartsWith("diffie-hellman-group-exchange", StringComparison.Ordinal))
        {
            throw new SshProtocolException("unexpected key exchange message");
        }
        if (_ignoreNextKexPacket)
        {
            _ignoreNextKexPacket = false;
            return;
        }
        var reader = new SshReader(payload);
        reader.ReadByte();
        if (DhGroup.ForKex(_negotiated.Kex) is { } group)
        {
            var e = reader.ReadMpint();
            var (f, dhSecret) = SshKeyAgreement.AgreeFiniteField(group, e);
            await CompleteKexAsync(SshMessage.KexEcdhReply, w => w.Mpint(e), w => w.Mpint(f), w => w.Mpint(f), Mpint(dhSecret)).ConfigureAwait(false);
            return;
        }
        var clientPublic = reader.ReadBinary().ToArray();
        byte[] serverPublic, encodedSecret;
        if (SshAlgorithms.IsSntrup(_negotiated.Kex))
        {
            (serverPublic, encodedSecret) = SshKeyAgreement.AgreeSntrup761X25519(clientPublic);
        }
        else
        {
            (serverPublic, var ecdhSecret) = SshKeyAgreement.Agree(_negotiated.Kex, clientPublic);
            encodedSecret = Mpint(ecdhSecret);
        }
        await CompleteKexAsync(SshMessage.KexEcdhReply, w => w.Binary(clientPublic), w => w.Binary(serverPublic), w => w.Binary(serverPublic), encodedSecret).ConfigureAwait(false);
    }

    /// <summary>RFC 4419 step 1: the client's size bounds; we answer with a group.</summary>
    private async Task OnGexRequestAsync(byte[] payload)
    {
        if (_clientKexInit is null || _negotiated?.Kex != "diffie-hellman-group-exchange-sha256" || _gexGroup is not null)
        {
            throw new SshProtocolException("unexpected group exchange request");
        }
        if (_ignoreNextKexPacket)
        {
            _ignoreNextKexPacket = false;
            return;
        }
        var reader = new SshReader(payload);
        reader.ReadByte();
        _gexMin = reader.ReadUInt32();
        _gexPreferred = reader.ReadUInt32();
        _gexMax = reader.ReadUInt32();
        _gexGroup = DhGroup.ForExchange(_gexMin, _gexPreferred, _gexMax)
            ?? throw new SshProtocolException("no DH group within the requested bounds", SshProtocolException.KeyExchangeFailed);
        await SendAsync(new SshWriter().Byte(SshMessage.KexDhGexGroup).Mpint(_gexGroup.Prime).Mpint(_gexGroup.Generator).ToArray(), _cancellation).ConfigureAwait(false);
    }

    private async Task OnGexInitAsync(byte[] payload)
    {
        var group = _gexGroup ?? throw new SshProtocolException("group exchange init before group");
        var reader = new SshReader(payload);
        reader.ReadByte();
        var e = reader.ReadMpint();
        var (f, secret) = SshKeyAgreement.AgreeFiniteField(group, e);
        _gexGroup = null;
        await CompleteKexAsync(
            SshMessage.KexDhGexReply,
            w => w.UInt32(_gexMin).UInt32(_gexPreferred).UInt32(_gexMax).Mpint(group.Prime).Mpint(group.Generator).Mpint(e),
            w => w.Mpint(f),
            w => w.Mpint(f),
            Mpint(secret)).ConfigureAwait(false);
    }

    private static byte[] Mpint(byte[] unsignedBigEndian) => new SshWriter().MpintUnsigned(unsignedBigEndian).ToArray();

    /// <summary>
    /// Exchange hash, host key signature, reply, key derivation and our NEWKEYS, shared by every kex
    /// method. The delegates write the method-specific parts of H and of the reply; <paramref name="secret"/>
    /// is K in its wire encoding (an mpint, or a string for sntrup761x25519).
    /// </summary>
    private async Task CompleteKexAsync(byte replyType, Action<SshWriter> clientPart, Action<SshWriter> serverPart, Action<SshWriter> replyPart, byte[] secret)
    {
        var negotiated = _negotiated!;
        var hostKey = _hostKeys.ForAlgorithm(negotiated.HostKey);
        var hostBlob = hostKey.PublicBlob;
        var hash = SshAlgorithms.KexHash(negotiated.Kex);
        var exchange = new SshWriter(4096)
            .String(_clientVersion!).String(_persona.Version)
            .Binary(_clientKexInit).Binary(_serverKexInit)
            .Binary(hostBlob);
        clientPart(exchange);
        serverPart(exchange);
        exchange.Raw(secret);
        var h = SshAlgorithms.Hash(hash, exchange.Span);
        _sessionId ??= h;
        var signature = hostKey.Sign(negotiated.HostKey, h);
        var reply = new SshWriter().Byte(replyType).Binary(hostBlob);
        replyPart(reply);
        await SendAsync(reply.Binary(signature).ToArray(), _cancellation).ConfigureAwait(false);

        IPacketCipher Make(string cipher, string mac, char ivLetter, char keyLetter, char macLetter)
        {
            var (keySize, ivSize) = SshAlgorithms.CipherSizes(cipher);
            var iv = ivSize == 0 ? [] : SshKeyAgreement.DeriveKeyFromEncoded(hash, secret, h, ivLetter, _sessionId, ivSize);
            var key = SshKeyAgreement.DeriveKeyFromEncoded(hash, secret, h, keyLetter, _sessionId, keySize);
            var macKey = mac.Length == 0 ? [] : SshKeyAgreement.DeriveKeyFromEncoded(hash, secret, h, macLetter, _sessionId, SshAlgorithms.MacKeySize(mac));
            return SshAlgorithms.CreateCipher(cipher, mac, key, iv, macKey);
        }

        _pendingReader = Make(negotiated.CipherIn, negotiated.MacIn, 'A', 'C', 'E');
        // After authentication, each NEWKEYS that negotiated zlib starts a new zlib stream, as sshd does.
        var compressOut = _user is not null && negotiated.CompressionOut == SshAlgorithms.Zlib;
        await _packets.WriteNewKeysAsync(Make(negotiated.CipherOut, negotiated.MacOut, 'B', 'D', 'F'), _strict, compressOut, _cancellation).ConfigureAwait(false);
    }

    private async Task OnNewKeysAsync()
    {
        if (_pendingReader is null)
        {
            throw new SshProtocolException("unexpected NEWKEYS");
        }
        _packets.SetReader(_pendingReader, _strict, startDecompression: _user is not null && _negotiated?.CompressionIn == SshAlgorithms.Zlib);
        _pendingReader = null;
        _clientKexInit = null;
        _serverKexInit = null;
        var first = !_initialKexDone;
        _initialKexDone = true;
        if (first && _extInfo)
        {
            // OpenSSH answers ext-info-c with server-sig-algs so clients may sign with rsa-sha2-*.
            await SendAsync(new SshWriter().Byte(SshMessage.ExtInfo).UInt32(2)
                .String("server-sig-algs").String("ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com")
                .String("publickey-hostbound@openssh.com").String("0")
                .ToArray(), _cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <c>connect</c> carries the client identification and HASSH: md5 of the client's
    /// "kex;ciphers;macs;compression" (client-to-server lists), the fingerprint scanners and bots share.
    /// </summary>
    private void EmitConnect(byte[]? clientKexInit)
    {
        if (_connectEmitted)
        {
            return;
        }
        _connectEmitted = true;
        string? hassh = null;
        string? algorithms = null;
        if (clientKexInit is not null)
        {
            var reader = new SshReader(clientKexInit);
            reader.ReadByte();
            reader.ReadBytes(16);
            var kex = reader.ReadString();
            reader.ReadString();
            var cipher = reader.ReadString();
            reader.ReadString();
            var mac = reader.ReadString();
            reader.ReadString();
            var compression = reader.ReadString();
            algorithms = $"{kex};{cipher};{mac};{compression}";
            // HASSH is defined over MD5; it is a fingerprint, not a security control.
            var md5 = new MD5Digest();
            var bytes = Encoding.UTF8.GetBytes(algorithms);
            md5.BlockUpdate(bytes, 0, bytes.Length);
            var digest = new byte[16];
            md5.DoFinal(digest, 0);
            hassh = Convert.ToHexStringLower(digest);
        }
        _connection.Emit("connect", ("dst_port", _connection.Local.Port.ToString(CultureInfo.InvariantCulture)), ("client_version", Truncate(_clientVersion)), ("hassh", hassh), ("hassh_algorithms", Truncate(algorithms)), ("server_version", _persona.Version));
    }

    // ---- User authentication (RFC 4252, RFC 4256) ----

    private string AuthMethods => _persona.KeyboardInteractive ? "publickey,password,keyboard-interactive" : "publickey,password";

    private async Task OnServiceRequestAsync(byte[] payload)
    {
        var reader = new SshReader(payload);
        reader.ReadByte();
        var service = reader.ReadString();
        if (service == "ssh-userauth" && !_userAuthAccepted)
        {
            _userAuthAccepted = true;
            await SendAsync(new SshWriter().Byte(SshMessage.ServiceAccept).String(service).ToArray(), _cancellation).ConfigureAwait(false);
            return;
        }
        throw new SshProtocolException("bad service request " + Truncate(service), SshProtocolException.ServiceNotAvailable);
    }

    private async Task OnUserAuthRequestAsync(byte[] payload)
    {
        if (!_userAuthAccepted)
        {
            throw new SshProtocolException("authentication before ssh-userauth service", SshProtocolException.ServiceNotAvailable);
        }
        if (_user is not null)
        {
            // RFC 4252 §5.1: requests after success are ignored.
            return;
        }
        _keyboardInteractiveUser = null;
        var reader = new SshReader(payload);
        reader.ReadByte();
        var user = Truncate(reader.ReadString())!;
        reader.ReadString();
        var method = reader.ReadString();
        switch (method)
        {
            case "password":
                var change = reader.ReadBoolean();
                var password = reader.ReadString();
                if (change)
                {
                    reader.ReadString();
                }
                await PasswordAttemptAsync(user, password, "password").ConfigureAwait(false);
                return;
            case "keyboard-interactive" when _persona.KeyboardInteractive:
                _keyboardInteractiveUser = user;
                // One hidden "Password: " prompt, as PAM's pam_unix presents it.
                await SendAsync(new SshWriter().Byte(SshMessage.UserAuthInfoRequest).String("").String("").String("")
                    .UInt32(1).String("Password: ").Boolean(false).ToArray(), _cancellation).ConfigureAwait(false);
                return;
            case "publickey":
                var signed = reader.ReadBoolean();
                var algorithm = reader.ReadString();
                var blob = reader.ReadBinary();
                string keyType;
                try
                {
                    keyType = new SshReader(blob).ReadString();
                }
                catch (SshProtocolException)
                {
                    keyType = algorithm;
                }
                _connection.Emit("auth_publickey", ("username", user), ("method", "publickey"), ("key_type", Truncate(keyType)),
                    ("algorithm", Truncate(algorithm)), ("fingerprint", SshFingerprint.Sha256(blob)), ("signed", signed ? "true" : "false"), ("result", "failure"));
                await FailAsync(delay: false).ConfigureAwait(false);
                return;
            case "none":
                await SendFailureAsync().ConfigureAwait(false);
                return;
            default:
                await FailAsync(delay: false).ConfigureAwait(false);
                return;
        }
    }

    private async Task OnKeyboardInteractiveResponseAsync(byte[] payload)
    {
        var user = _keyboardInteractiveUser ?? throw new SshProtocolException("unexpected keyboard-interactive response");
        _keyboardInteractiveUser = null;
        var reader = new SshReader(payload);
        reader.ReadByte();
        var count = reader.ReadUInt32();
        if (count > 8)
        {
            throw new SshProtocolException("too many keyboard-interactive responses");
        }
        var password = count > 0 ? reader.ReadString() : "";
        await PasswordAttemptAsync(user, password, "keyboard-interactive").ConfigureAwait(false);
    }

    private async Task PasswordAttemptAsync(string user, string password, string method)
    {
        var success = _persona.Accepts(user, password);
        _connection.Emit("auth_attempt", null, success ? EventSeverity.Notice : EventSeverity.Informational,
            ("username", user), ("password", Truncate(password)), ("method", method), ("result", success ? "success" : "failure"));
        if (success)
        {
            _user = user;
            await SendAsync([SshMessage.UserAuthSuccess], _cancellation).ConfigureAwait(false);
            // zlib@openssh.com is "delayed": it starts right after USERAUTH_SUCCESS, in both directions.
            if (_negotiated is { } negotiated)
            {
                await _packets.EnableCompressionAsync(negotiated.CompressionIn == SshAlgorithms.Zlib, negotiated.CompressionOut == SshAlgorithms.Zlib, _cancellation).ConfigureAwait(false);
            }
            return;
        }
        await FailAsync(delay: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Like OpenSSH with PAM, a wrong password is answered only after a delay, awaited on the
    /// TimeProvider (no thread blocked); the MaxAuthTries-th failure ends the connection.
    /// </summary>
    private async Task FailAsync(bool delay)
    {
        if (delay && _persona.FailureDelay > TimeSpan.Zero)
        {
            await Task.Delay(_persona.JitteredFailureDelay(), _connection.Context.Time, _cancellation).ConfigureAwait(false);
        }
        if (++_failures >= _persona.MaxAuthTries)
        {
            throw new SshProtocolException("Too many authentication failures");
        }
        await SendFailureAsync().ConfigureAwait(false);
    }

    private Task SendFailureAsync() =>
        SendAsync(new SshWriter().Byte(SshMessage.UserAuthFailure).String(AuthMethods).Boolean(false).ToArray(), _cancellation);

    // ---- Connection protocol (RFC 4254) ----

    private async Task OnGlobalRequestAsync(byte[] payload)
    {
        var reader = new SshReader(payload);
        reader.ReadByte();
        var name = reader.ReadString();
        var wantReply = reader.ReadBoolean();
        if (name is "tcpip-forward" or "streamlocal-forward@openssh.com")
        {
            _connection.Emit("port_forward_attempt", ("request", name), ("username", _user));
        }
        if (wantReply)
        {
            await SendAsync([SshMessage.RequestFailure], _cancellation).ConfigureAwait(false);
        }
    }

    private async Task OnChannelOpenAsync(byte[] payload)
    {
        var reader = new SshReader(payload);
        reader.ReadByte();
        var type = reader.ReadString();
        var sender = reader.ReadUInt32();
        var window = reader.ReadUInt32();
        var maxPacket = reader.ReadUInt32();
        if (type == "direct-tcpip")
        {
            var host = reader.ReadString();
            var port = reader.ReadUInt32();
            _connection.Emit("port_forward_attempt", ("request", type), ("dst_host", Truncate(host)), ("dst_port", port.ToString(CultureInfo.InvariantCulture)), ("username", _user));
            await OpenFailureAsync(sender, 1, "administratively prohibited: open failed").ConfigureAwait(false);
            return;
        }
        if (type != "session")
        {
            await OpenFailureAsync(sender, 3, "unknown channel type").ConfigureAwait(false);
            return;
        }
        if (_channels.Count >= MaxChannels)
        {
            await OpenFailureAsync(sender, 4, "open failed").ConfigureAwait(false);
            return;
        }
        var id = _nextChannelId++;
        var channel = new SshChannel(SendAsync, id, sender, window, maxPacket);
        _channels[id] = channel;
        await SendAsync(new SshWriter().Byte(SshMessage.ChannelOpenConfirmation).UInt32(sender).UInt32(id)
            .UInt32(SshChannel.InitialWindow).UInt32(SshChannel.MaxPacket).ToArray(), _cancellation).ConfigureAwait(false);
    }

    private Task OpenFailureAsync(uint sender, uint reason, string description) =>
        SendAsync(new SshWriter().Byte(SshMessage.ChannelOpenFailure).UInt32(sender).UInt32(reason).String(description).String("").ToArray(), _cancellation);

    private async Task OnChannelMessageAsync(byte[] payload)
    {
        var reader = new SshReader(payload);
        var type = reader.ReadByte();
        var id = reader.ReadUInt32();
        if (!_channels.TryGetValue(id, out var channel))
        {
            throw new SshProtocolException("message for unknown channel");
        }
        switch (type)
        {
            case SshMessage.ChannelWindowAdjust:
                await channel.AdjustWindowAsync(reader.ReadUInt32(), _cancellation).ConfigureAwait(false);
                break;
            case SshMessage.ChannelData or SshMessage.ChannelExtendedData:
                if (type == SshMessage.ChannelExtendedData)
                {
                    reader.ReadUInt32();
                }
                var data = reader.ReadBinary();
                if (data.Length > channel.LocalWindow)
                {
                    throw new SshProtocolException("channel window exceeded");
                }
                channel.LocalWindow -= data.Length;
                var copy = data.ToArray();
                if (channel.Handler is { } handler && type == SshMessage.ChannelData && !channel.CloseSent)
                {
                    await handler.OnDataAsync(copy, _cancellation).ConfigureAwait(false);
                }
                if (channel.LocalWindow < SshChannel.InitialWindow / 2 && !channel.CloseSent)
                {
                    var adjust = SshChannel.InitialWindow - (uint)channel.LocalWindow;
                    channel.LocalWindow = SshChannel.InitialWindow;
                    await SendAsync(new SshWriter().Byte(SshMessage.ChannelWindowAdjust).UInt32(channel.RemoteId).UInt32(adjust).ToArray(), _cancellation).ConfigureAwait(false);
                }
                break;
            case SshMessage.ChannelEof:
                if (channel.Handler is { } eofHandler)
                {
                    await eofHandler.OnEofAsync(_cancellation).ConfigureAwait(false);
                }
                break;
            case SshMessage.ChannelClose:
                await channel.CloseAsync(_cancellation).ConfigureAwait(false);
                _channels.Remove(id);
                if (channel.Handler is { } closing)
                {
                    await closing.DisposeAsync().ConfigureAwait(false);
                }
                break;
            case SshMessage.ChannelRequest:
                await OnChannelRequestAsync(channel, payload).ConfigureAwait(false);
                break;
        }
    }

    private async Task OnChannelRequestAsync(SshChannel channel, byte[] payload)
    {
        var reader = new SshReader(payload);
        reader.ReadByte();
        reader.ReadUInt32();
        var request = reader.ReadString();
        var wantReply = reader.ReadBoolean();
        var ok = false;
        ISshChannelHandler? start = null;
        switch (request)
        {
            case "pty-req":
                channel.Term = Truncate(reader.ReadString(), 64)!;
                channel.Columns = (int)Math.Clamp(reader.ReadUInt32(), 1u, 1000u);
                channel.Rows = (int)Math.Clamp(reader.ReadUInt32(), 1u, 1000u);
                channel.HasPty = true;
                ok = true;
                break;
            case "env":
                var name = reader.ReadString();
                var value = reader.ReadString();
                // sshd's default AcceptEnv is LANG LC_*; other variables are refused.
                ok = name == "LANG" || name.StartsWith("LC_", StringComparison.Ordinal);
                if (ok && channel.Environment.Count < 64 && name.Length < 256 && value.Length < 4096)
                {
                    channel.Environment[name] = value;
                }
                break;
            case "window-change":
                channel.Columns = (int)Math.Clamp(reader.ReadUInt32(), 1u, 1000u);
                channel.Rows = (int)Math.Clamp(reader.ReadUInt32(), 1u, 1000u);
                channel.Handler?.OnWindowChange(channel.Columns, channel.Rows);
                ok = true;
                break;
            case "shell" when channel.Handler is null:
                start = new ShellChannelHandler(this, channel, null);
                break;
            case "exec" when channel.Handler is null:
                var command = reader.ReadString();
                start = ScpSinkHandler.IsScpSink(command)
                    ? new ScpSinkHandler(this, channel, command)
                    : new ShellChannelHandler(this, channel, command);
                break;
            case "subsystem" when channel.Handler is null:
                var subsystem = reader.ReadString();
                if (subsystem == "sftp")
                {
                    start = new SftpSubsystemHandler(this, channel);
                }
                else
                {
                    _connection.Emit("subsystem_request", ("subsystem", Truncate(subsystem)), ("username", _user));
                }
                break;
        }
        if (start is not null)
        {
            channel.Handler = start;
            ok = true;
        }
        if (wantReply)
        {
            await SendAsync(new SshWriter().Byte(ok ? SshMessage.ChannelSuccess : SshMessage.ChannelFailure).UInt32(channel.RemoteId).ToArray(), _cancellation).ConfigureAwait(false);
        }
        if (start is not null)
        {
            await start.StartAsync(_cancellation).ConfigureAwait(false);
        }
    }

    public static string? Truncate(string? value, int max = MaxFieldLength) => value is null || value.Length <= max ? value : value[..max];
}
