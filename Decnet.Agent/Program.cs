using Decnet.Agent;
using Decnet.Agent.Honeypot;

// Subcommands: "honeypot" runs inside service containers. The worker agent (mutual-TLS control API,
// heartbeat, log shipping) arrives with the swarm issue; until then every other subcommand is a usage error.
return args switch
{
    ["honeypot", .. var rest] => await HoneypotHostCommand.RunAsync(rest, Environment.GetEnvironmentVariable, Console.Out, Console.Error),
    ["forward", .. var rest] => await Decnet.Agent.Shipping.ForwardCommand.RunAsync(rest, Console.Error),
    _ => AgentUsage.Fail(args, Console.Error),
};
