using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Decnet.Core.Honeypots.Ssh;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Security;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// The smallest SSH client a brute forcer needs: version exchange, KEXINIT, curve25519-sha256,
/// NEWKEYS, ssh-userauth and password requests, built on Decnet.Core's own packet codec. One process
/// holding a thousand of these is realistic on 2 cores where a thousand ssh processes are not. It
/// does not verify the host key: it is an attacker, not a user.
/// </summary>
public sealed class PasswordGuessingSshClient : IAsyncDisposable
{
    private const string Version = "SSH-2.0-libssh_0.10.6";
    private const string Cipher = "aes128-ctr";
    private const string Mac = "hmac-sha2-256";
    private static readonly SecureRandom Random = new();
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SshPacketStream _packets;

    private PasswordGuessingSshClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _packets = new SshPacketStream(_stream);
    }

    /// <summary>Connects, runs the key exchange and gets the ssh-userauth service accepted.</summary>
    public static async Task<PasswordGuessingSshClient> ConnectAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var client = new PasswordGuessingSshClient(socket);
        try
        {
            await client.HandshakeAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        await _packets.WriteVersionAsync(Version, cancellationToken);
        var serverVersion = await _packets.ReadVersionAsync(cancellationToken);
        var clientKexInit = new SshWriter().Byte(SshMessage.KexInit).Raw(RandomNumberGenerator.GetBytes(16))
            .NameList(["curve25519-sha256"]).NameList(["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256"])
            .NameList([Cipher]).NameList([Cipher]).NameList([Mac]).NameList([Mac])
            .NameList(["none"]).NameList(["none"]).NameList([]).NameList([])
            .Boolean(false).UInt32(0).ToArray();
        await _packets.WritePacketAsync(clientKexInit, cancellationToken);
        var serverKexInit = await ExpectAsync(SshMessage.KexInit, cancellationToken);

        var priv = new byte[X25519.ScalarSize];
        X25519.GeneratePrivateKey(Random, priv);
        var clientPublic = new byte[X25519.PointSize];
        X25519.GeneratePublicKey(priv, 0, clientPublic, 0);
        await _packets.WritePacketAsync(new SshWriter().Byte(SshMessage.KexEcdhInit).Binary(clientPublic).ToArray(), cancellationToken);

        var reply = await ExpectAsync(SshMessage.KexEcdhReply, cancellationToken);
        var (hostKey, serverPublic) = ParseReply(reply);
        var secret = new byte[X25519.PointSize];
        if (!X25519.CalculateAgreement(priv, 0, serverPublic, 0, secret, 0))
        {
            throw new SshProtocolException("curve25519 shared secret is zero");
        }
        // RFC 8731 / RFC 5656 exchange hash; the first one is also the session id.
        var h = SHA256.HashData(new SshWriter(4096)
            .String(Version).String(serverVersion).Binary(clientKexInit).Binary(serverKexInit)
            .Binary(hostKey).Binary(clientPublic).Binary(serverPublic).MpintUnsigned(secret).Span);

        IPacketCipher Make(char ivLetter, char keyLetter, char macLetter)
        {
            var (keySize, ivSize) = SshAlgorithms.CipherSizes(Cipher);
            var hash = HashAlgorithmName.SHA256;
            return SshAlgorithms.CreateCipher(Cipher, Mac,
                SshKeyAgreement.DeriveKey(hash, secret, h, keyLetter, h, keySize),
                SshKeyAgreement.DeriveKey(hash, secret, h, ivLetter, h, ivSize),
                SshKeyAgreement.DeriveKey(hash, secret, h, macLetter, h, SshAlgorithms.MacKeySize(Mac)));
        }

        await ExpectAsync(SshMessage.NewKeys, cancellationToken);
        await _packets.WriteNewKeysAsync(Make('A', 'C', 'E'), resetSequence: false, startCompression: false, cancellationToken);
        _packets.SetReader(Make('B', 'D', 'F'), resetSequence: false);
        await _packets.WritePacketAsync(new SshWriter().Byte(SshMessage.ServiceRequest).String("ssh-userauth").ToArray(), cancellationToken);
        await ExpectAsync(SshMessage.ServiceAccept, cancellationToken);
    }

    private static (byte[] HostKey, byte[] ServerPublic) ParseReply(byte[] reply)
    {
        var reader = new SshReader(reply);
        reader.ReadByte();
        var hostKey = reader.ReadBinary().ToArray();
        var serverPublic = reader.ReadBinary().ToArray();
        return (hostKey, serverPublic);
    }

    /// <summary>Sends one password guess and waits for the verdict: false for a failure.</summary>
    public async Task<bool> TryPasswordAsync(string user, string password, CancellationToken cancellationToken)
    {
        await _packets.WritePacketAsync(new SshWriter().Byte(SshMessage.UserAuthRequest).String(user).String("ssh-connection")
            .String("password").Boolean(false).String(password).ToArray(), cancellationToken);
        while (true)
        {
            var payload = await _packets.ReadPacketAsync(cancellationToken);
            switch (payload[0])
            {
                case SshMessage.UserAuthFailure:
                    return false;
                case SshMessage.UserAuthSuccess:
                    return true;
                case SshMessage.Disconnect:
                    throw new SshProtocolException("server disconnected");
                default:
                    // A banner, ignore or debug message: not the verdict yet.
                    continue;
            }
        }
    }

    private async Task<byte[]> ExpectAsync(byte type, CancellationToken cancellationToken)
    {
        // Bounded: a server that keeps sending anything else is broken.
        for (var i = 0; i < 16; i++)
        {
            var payload = await _packets.ReadPacketAsync(cancellationToken);
            if (payload[0] == type)
            {
                return payload;
            }
            if (payload[0] is not (SshMessage.Ignore or SshMessage.Debug or SshMessage.ExtInfo))
            {
                throw new SshProtocolException($"expected message {type}, got {payload[0]}");
            }
        }
        throw new SshProtocolException($"expected message {type}, got only noise");
    }

    public async ValueTask DisposeAsync()
    {
        _packets.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
