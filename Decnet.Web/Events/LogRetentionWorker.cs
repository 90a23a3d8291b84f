using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using Decnet.Core.Configuration;
using Decnet.Core.Events.Retention;
using Decnet.Core.Settings;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Events;

/// <summary>How often the log retention purge runs and how many rows each delete takes. Section <c>Decnet:Logs:Retention</c>.</summary>
public sealed class LogRetentionOptions
{
    public const string Section = "Decnet:Logs:Retention";

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    [Range(100, 100_000)]
    public int BatchSize { get; set; } = LogPurger.DefaultBatchSize;
}

/// <summary>Every problem with <c>Decnet:Logs:Retention</c> at once, each with its key.</summary>
public sealed class LogRetentionOptionsValidator : IValidateOptions<LogRetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, LogRetentionOptions options) =>
        new OptionsProblems(LogRetentionOptions.Section).Annotations(options).Result();
}

/// <summary>
/// Runs <see cref="LogPurger"/> at start, every <see cref="LogRetentionOptions.Interval"/>, and at once
/// when an operator changes the settings in Config, so a lowered retention takes effect without a wait.
/// </summary>
public sealed class LogRetentionWorker(LogPurger purger, SystemSettingsService settings, IOptions<LogRetentionOptions> options, TimeProvider time, ILogger<LogRetentionWorker> logger)
    : BackgroundService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        settings.Changed += OnSettingsChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await purger.PurgeAsync(options.Value.BatchSize, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Log retention purge failed; retrying at the next interval");
                }
                await WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            settings.Changed -= OnSettingsChanged;
        }
    }

    private void OnSettingsChanged(SystemSettings _) => _wake.Writer.TryWrite(true);

    private async Task WaitAsync(CancellationToken stoppingToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(options.Value.Interval, time, either.Token);
        var woken = _wake.Reader.WaitToReadAsync(either.Token).AsTask();
        await Task.WhenAny(delay, woken);
        await either.CancelAsync();
        while (_wake.Reader.TryRead(out _))
        {
        }
        stoppingToken.ThrowIfCancellationRequested();
    }
}
