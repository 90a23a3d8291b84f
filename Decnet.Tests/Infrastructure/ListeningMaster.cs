using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// The master on a real Kestrel socket, and HTTP clients that connect from a chosen loopback source
/// address: distinct 127.x.y.z sources are distinct clients to the server (throttles, forwarded headers).
/// </summary>
public sealed partial class ListeningMaster : IAsyncDisposable
{
    private ListeningMaster(DecnetWebFactory factory, Uri baseAddress)
    {
        Factory = factory;
        BaseAddress = baseAddress;
    }

    public DecnetWebFactory Factory { get; }
    public Uri BaseAddress { get; }

    /// <summary>Starts on a random 127.x.y.z address and port; <paramref name="overrides"/> as for <see cref="DecnetWebFactory"/>.</summary>
    public static ListeningMaster Start(IReadOnlyDictionary<string, string?>? overrides = null, string scheme = "http")
    {
        var settings = new Dictionary<string, string?> { ["urls"] = $"{scheme}://{RandomLoopback()}:0" };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var factory = new DecnetWebFactory(settings);
        factory.UseKestrel();
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith(scheme + "://", StringComparison.Ordinal));
        return new ListeningMaster(factory, new Uri(address));
    }

    /// <summary>A loopback address nobody else in this run is likely to use.</summary>
    public static IPAddress RandomLoopback() =>
        IPAddress.Parse($"127.{Random.Shared.Next(10, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(2, 250)}");

    /// <summary>A client whose connections come from <paramref name="source"/> (any 127.x.y.z).</summary>
    public HttpClient Client(IPAddress? source = null, RemoteCertificateValidationCallback? certificate = null, bool cookies = false) =>
        ClientFor(BaseAddress, source, certificate, cookies);

    /// <summary>A client of any master (this process or another) whose connections come from <paramref name="source"/>.</summary>
    public static HttpClient ClientFor(Uri baseAddress, IPAddress? source = null, RemoteCertificateValidationCallback? certificate = null, bool cookies = false)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = cookies,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (source is not null)
                    {
                        socket.Bind(new IPEndPoint(source, 0));
                    }
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        if (certificate is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = certificate;
        }
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string username, string password) =>
        client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });

    /// <summary>Every line the master wrote to its rolling log file so far.</summary>
    public string ReadLog()
    {
        var folder = Path.Combine(Factory.DataDirectory, "logs");
        if (!Directory.Exists(folder))
        {
            return "";
        }
        return string.Concat(Directory.GetFiles(folder, "decnet-web-*.log").Select(path =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }));
    }

    /// <summary>Waits until the log holds <paramref name="text"/> (log lines are written asynchronously).</summary>
    public async Task<string> WaitForLogAsync(string text)
    {
        var log = ReadLog();
        for (var attempt = 0; attempt < 300 && !log.Contains(text, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            log = ReadLog();
        }
        Assert.Contains(text, log, StringComparison.Ordinal);
        return log;
    }

    /// <summary>The anti-forgery token of a rendered form.</summary>
    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("no antiforgery token in the page");

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}
