// The worker agent (mutual-TLS control API, heartbeat, log shipping) arrives with the swarm issue.
// Until then the process only reports that it has nothing to serve.
Console.Error.WriteLine("decnet-agent: the worker agent is not part of this build yet (see issue 6).");
return 2;
