using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Core.Swarm.Updates;

/// <summary>
/// The master's side of one worker's updater: mutual TLS with the master identity; the updater must
/// present a certificate issued by the swarm CA whose fingerprint is the host's updater pin AND whose CN
/// is exactly <c>updater@&lt;host name&gt;</c>. Dispose after use (one push, one probe).
/// </summary>
public sealed class UpdaterClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly HttpClient _http;

    public UpdaterClient(string hostName, Uri baseAddress, string updaterFingerprint, X509Certificate2 masterIdentity, SwarmTrust trust, TimeSpan connectTimeout)
    {
        HostName = hostName;
        BaseAddress = baseAddress;
        var expectedCommonName = SwarmCertificateAuthority.UpdaterPrefix + hostName;
        var tls = PinnedTls.CreateClientOptions(masterIdentity, trust, updaterFingerprint, hostName);
        tls.RemoteCertificateValidationCallback = (_, certificate, _, _) => IsExpectedUpdater(certificate, trust, updaterFingerprint, expectedCommonName);
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = connectTimeout, UseProxy = false, SslOptions = tls }, disposeHandler: true)
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = 1024 * 1024,
        };
    }

    public string HostName { get; }

    public Uri BaseAddress { get; }

    /// <summary>The pin and the name: a certificate of another updater (or of any other swarm peer) never passes.</summary>
    public static bool IsExpectedUpdater(X509Certificate? certificate, SwarmTrust trust, string fingerprint, string expectedCommonName) =>
        PinnedTls.IsExpectedServer(certificate, trust, fingerprint)
        && string.Equals(SwarmTrust.CommonName(certificate!), expectedCommonName, StringComparison.Ordinal);

    public async Task<UpdaterHealth> HealthAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, "health", null, timeout, cancellationToken);
        return answer.Status == HttpStatusCode.OK && answer.Body.ValueKind == JsonValueKind.Object
            ? answer.Body.Deserialize<UpdaterHealth>(Json) ?? throw new UpdaterCallException(HostName, answer.Status, "health: empty answer")
            : throw new UpdaterCallException(HostName, answer.Status, $"health: {answer.Detail}");
    }

    /// <summary>POST /update (or /update-self with confirm_self=true) with the release tarball.</summary>
    public Task<UpdaterAnswer> UpdateAsync(ReleasePackage release, bool self, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(release);
        return SendAsync(HttpMethod.Post, self ? "update-self" : "update", () =>
        {
            var form = new MultipartFormDataContent();
            var tarball = new StreamContent(File.OpenRead(release.TarballPath));
            tarball.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
            form.Add(tarball, UpdaterProtocol.TarballField, "release.tar.gz");
            form.Add(new StringContent(release.Sha), UpdaterProtocol.ShaField);
            if (self)
            {
                form.Add(new StringContent("true"), UpdaterProtocol.ConfirmSelfField);
            }
            return form;
        }, timeout, cancellationToken);
    }

    public Task<UpdaterAnswer> RollbackAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "rollback", null, timeout, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<UpdaterAnswer> SendAsync(HttpMethod method, string path, Func<HttpContent>? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = content?.Invoke() };
            using var response = await _http.SendAsync(request, limit.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(limit.Token).ConfigureAwait(false);
            JsonElement body = default;
            try
            {
                body = string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
            }
            return new UpdaterAnswer(response.StatusCode, body, Describe(body, text));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpdaterCallException(HostName, null, $"{path}: no answer from {BaseAddress.Authority} within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            throw new UpdaterCallException(HostName, null, $"{path}: {Describe(ex)}", ex.HttpRequestError);
        }
    }

    private static string Describe(JsonElement body, string text)
    {
        if (body.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in new[] { "detail", "title" })
            {
                if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString()!;
                }
            }
        }
        return text.Length > 500 ? text[..500] : text;
    }

    private string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.SecureConnectionError => $"the TLS handshake with {BaseAddress.Authority} failed (certificate is not updater@{HostName} with the enrolled fingerprint, or the updater refused the master)",
        HttpRequestError.ConnectionError => $"cannot connect to {BaseAddress.Authority}: {ex.InnerException?.Message ?? ex.Message}",
        _ => ex.Message,
    };
}

/// <summary>An updater's answer: its status, its JSON body and a one-line detail.</summary>
public sealed record UpdaterAnswer(HttpStatusCode Status, JsonElement Body, string Detail)
{
    public bool RolledBack => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("rolled_back", out var value) && value.ValueKind == JsonValueKind.True;
}

/// <summary>The updater could not be reached or talked to.</summary>
public sealed class UpdaterCallException(string hostName, HttpStatusCode? status, string message, HttpRequestError? error = null, Exception? inner = null)
    : Exception($"{hostName}: {message}", inner)
{
    public string HostName { get; } = hostName;

    public HttpStatusCode? Status { get; } = status;

    public HttpRequestError? Error { get; } = error;

    public string Reason { get; } = message;
}

/// <summary>A release tarball on the master's disk and its content SHA.</summary>
public sealed record ReleasePackage(string TarballPath, string Sha, long Bytes) : IDisposable
{
    public void Dispose()
    {
        try
        {
            File.Delete(TarballPath);
        }
        catch (IOException)
        {
        }
    }
}
