using Decnet.Agent;
using Decnet.Agent.Honeypot;
using Decnet.Agent.Serve;

// "serve" is the worker agent (mutual-TLS control API, deckies, event spool, heartbeat); "honeypot" runs
// inside service containers.
return args switch
{
    ["serve", .. var rest] => await ServeCommand.RunAsync(rest, Environment.GetEnvironmentVariable, Console.Error),
    ["honeypot", .. var rest] => await HoneypotHostCommand.RunAsync(rest, Environment.GetEnvironmentVariable, Console.Out, Console.Error),
    ["updater", .. var rest] => await Decnet.Agent.Updater.UpdaterCommand.RunAsync(rest, Environment.GetEnvironmentVariable, Console.Error),
    ["forward", .. var rest] => await Decnet.Agent.Shipping.ForwardCommand.RunAsync(rest, Console.Error),
    _ => AgentUsage.Fail(args, Console.Error),
};
