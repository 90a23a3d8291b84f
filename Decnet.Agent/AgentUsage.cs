namespace Decnet.Agent;

/// <summary>The message for a subcommand this build does not serve.</summary>
internal static class AgentUsage
{
    public static int Fail(IReadOnlyList<string> args, TextWriter stderr)
    {
        var given = args.Count == 0 ? "no subcommand" : $"'{args[0]}'";
        stderr.WriteLine(
            $"""
            decnet-agent: {given} is not available in this build.
            usage: decnet-agent honeypot     host honeypot services in a service container (see --help)
            The worker agent (mutual-TLS control API, heartbeat, log shipping) is not part of this build yet.
            """);
        return 2;
    }
}
