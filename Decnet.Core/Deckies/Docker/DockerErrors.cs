using System.Net;
using System.Net.Sockets;
using Docker.DotNet;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// Which engine failures are worth retrying. Only transient ones: timeouts, connection errors and 5xx
/// answers that are not a permanent condition in disguise. A 4xx ("no such image", "conflict", "bad
/// parameter") fails the same way every time, so retrying it only delays the error the operator needs.
/// </summary>
public static class DockerErrors
{
    // The engine answers 500 for some failures that retrying cannot fix (the OCI runtime refusing a
    // configuration, a missing image during start); these fragments mark them permanent.
    private static readonly string[] _permanentMarkers =
    [
        "no such image",
        "pull access denied",
        "manifest unknown",
        "repository does not exist",
        "not found",
        "oci runtime",
        "invalid",
        "conflict",
        "already in use",
        "address already",
    ];

    public static bool IsTransient(Exception exception) => exception switch
    {
        DockerApiException api => (int)api.StatusCode >= 500 && !HasPermanentMarker(api.ResponseBody ?? api.Message),
        TimeoutRejectedException or TimeoutException => true,
        HttpRequestException http => http.StatusCode is null || (int)http.StatusCode >= 500,
        SocketException or IOException => true,
        _ => false,
    };

    /// <summary>A readable message: the engine's own JSON "message" when there is one.</summary>
    public static string Describe(Exception exception)
    {
        if (exception is DockerApiException api && !string.IsNullOrWhiteSpace(api.ResponseBody))
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(api.ResponseBody);
                if (document.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text)
                {
                    return text;
                }
            }
            catch (System.Text.Json.JsonException)
            {
                return api.ResponseBody.Trim();
            }
        }
        return exception.Message;
    }

    public static bool IsNotFound(Exception exception) => exception is DockerApiException { StatusCode: HttpStatusCode.NotFound };

    /// <summary>Retries transient failures with exponential back-off; each attempt has its own timeout.</summary>
    public static ResiliencePipeline CreatePipeline(DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ResiliencePipelineBuilder();
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                // A cancelled caller is not a transient engine error; HttpClient timeouts surface as a
                // cancellation too, but then the caller's token is still live.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } error
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && (IsTransient(error) || error is OperationCanceledException)),
            });
        }
        return builder.AddTimeout(options.RequestTimeout).Build();
    }

    private static bool HasPermanentMarker(string text) =>
        _permanentMarkers.Any(marker => text.Contains(marker, StringComparison.OrdinalIgnoreCase));
}
