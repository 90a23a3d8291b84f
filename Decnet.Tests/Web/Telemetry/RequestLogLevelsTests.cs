using Decnet.Web.Telemetry;
using Serilog.Events;

namespace Decnet.Tests.Web.Telemetry;

/// <summary>Which requests still write a log line at the default (Information) level.</summary>
public sealed class RequestLogLevelsTests
{
    [Theory]
    [InlineData(200, 3, LogEventLevel.Debug)]
    [InlineData(304, 3, LogEventLevel.Debug)]
    [InlineData(200, 1500, LogEventLevel.Information)]
    [InlineData(404, 3, LogEventLevel.Information)]
    [InlineData(400, 3, LogEventLevel.Information)]
    [InlineData(401, 3, LogEventLevel.Warning)]
    [InlineData(403, 3, LogEventLevel.Warning)]
    [InlineData(429, 3, LogEventLevel.Warning)]
    [InlineData(500, 3, LogEventLevel.Error)]
    public void Fast_successes_are_debug_and_what_an_operator_acts_on_stays_visible(int status, double elapsedMs, LogEventLevel level) =>
        Assert.Equal(level, RequestLogLevels.LevelFor(status, elapsedMs, null));

    [Fact]
    public void An_exception_is_an_error_whatever_the_status() =>
        Assert.Equal(LogEventLevel.Error, RequestLogLevels.LevelFor(200, 1, new InvalidOperationException()));
}
