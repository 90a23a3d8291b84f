using Serilog.AspNetCore;
using Serilog.Events;

namespace Decnet.Web.Telemetry;

/// <summary>
/// One request log line per request is kept for what an operator acts on: server errors, refused
/// authentication or authorisation, rate limiting and slow requests. Fast successful reads drop to Debug:
/// at thousands of API requests a second, writing each to the console and the file costs more than
/// serving it, and drowns the lines that matter.
/// </summary>
public static class RequestLogLevels
{
    public static readonly TimeSpan SlowRequest = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The host's own logger is named: left unset, the middleware writes through the process-wide static
    /// logger, which is whichever host was built last when several run in one process.
    /// </summary>
    public static void Configure(RequestLoggingOptions options, Serilog.ILogger logger)
    {
        options.Logger = logger;
        options.GetLevel = (context, elapsedMs, exception) => LevelFor(context.Response.StatusCode, elapsedMs, exception);
    }

    public static LogEventLevel LevelFor(int statusCode, double elapsedMs, Exception? exception) =>
        exception is not null || statusCode >= 500 ? LogEventLevel.Error
        : statusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status429TooManyRequests ? LogEventLevel.Warning
        : elapsedMs >= SlowRequest.TotalMilliseconds || statusCode >= 400 ? LogEventLevel.Information
        : LogEventLevel.Debug;
}
