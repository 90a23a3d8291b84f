namespace Decnet.Agent;

/// <summary>The message for a missing or unknown subcommand.</summary>
internal static class AgentUsage
{
    public static int Fail(IReadOnlyList<string> args, TextWriter stderr)
    {
        var given = args.Count == 0 ? "no subcommand" : $"'{args[0]}'";
        stderr.WriteLine(
            $"""
            decnet-agent: {given} is not a subcommand.
            usage: decnet-agent serve [--config PATH]   the worker agent (see serve --help)
                   decnet-agent forward [--config PATH] the log forwarder on its own (see forward --help)
                   decnet-agent updater [--config PATH] the release updater (see updater --help)
                   decnet-agent honeypot                host honeypot services in a service container (see --help)
            """);
        return 2;
    }
}
