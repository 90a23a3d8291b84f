using Decnet.Agent.Logging;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;

namespace Decnet.Agent.Shipping;

/// <summary>
/// <c>decnet-agent forward [--config /etc/decnet/decnet.ini]</c>: the log forwarder on its own, as the
/// decnet-forwarder systemd unit runs it. Stops cleanly on SIGTERM; a kill at any point loses nothing,
/// since the offset moves only after the master's acknowledgement.
/// </summary>
public static class ForwardCommand
{
    public const string DefaultConfig = "/etc/decnet/decnet.ini";
    public const int ExitOk = 0;
    public const int ExitUsage = 2;

    public const string Usage = """
        usage: decnet-agent forward [--config FILE]
          Ships {log-directory}/decnet.log to the master's log listener (RFC 5425 over mutual TLS),
          keeping the acknowledged offset in {state-dir}/forwarder.offset.
          --config FILE   the worker's settings (default /etc/decnet/decnet.ini)
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stderr, CancellationToken stopping = default)
    {
        var config = DefaultConfig;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Count:
                    config = args[++i];
                    break;
                case "-h" or "--help":
                    await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
                    return ExitOk;
                default:
                    await stderr.WriteLineAsync($"decnet-agent forward: unexpected argument '{args[i]}'\n{Usage}").ConfigureAwait(false);
                    return ExitUsage;
            }
        }

        AgentHostSettings settings;
        try
        {
            settings = AgentHostSettings.Parse(await File.ReadAllTextAsync(config, stopping).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"decnet-agent forward: cannot read {config}: {ex.Message}").ConfigureAwait(false);
            return ExitUsage;
        }
        catch (IniValidationException ex)
        {
            await stderr.WriteLineAsync($"decnet-agent forward: {config}: {ex.Message}").ConfigureAwait(false);
            return ExitUsage;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddAgentLogFile(settings.LogDirectory, "forwarder");
        builder.Services.AddLogForwarder(settings);
        using var host = builder.Build();
        await host.RunAsync(stopping).ConfigureAwait(false);
        return ExitOk;
    }
}
