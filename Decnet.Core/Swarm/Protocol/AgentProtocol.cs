using System.Text.Json.Serialization;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Runtime;

namespace Decnet.Core.Swarm.Protocol;

// The JSON spoken between master and agents (agent API and heartbeat). Every property carries an explicit
// snake_case name; readers ignore unknown fields so master and workers can be upgraded one at a time.
// Serialise with DeckyConfigJson.Options.

/// <summary><c>POST /deploy</c>: the worker's share of a deployment (its deckies only).</summary>
public sealed record AgentDeployRequest(
    [property: JsonPropertyName("config")] DecnetConfig Config,
    [property: JsonPropertyName("dry_run")] bool DryRun = false);

/// <summary><c>POST /teardown</c>: one decky, or everything the worker runs when <see cref="DeckyId"/> is null.</summary>
public sealed record AgentTeardownRequest(
    [property: JsonPropertyName("decky_id")] string? DeckyId);

/// <summary><c>POST /mutate</c>: restart one decky with a new service set (or a fresh random one when null).</summary>
public sealed record AgentMutateRequest(
    [property: JsonPropertyName("decky_id")] string DeckyId,
    [property: JsonPropertyName("services")] IReadOnlyList<string>? Services);

/// <summary><c>GET /status</c>, also the body of every heartbeat.</summary>
public sealed record AgentStatus(
    [property: JsonPropertyName("deployed")] bool Deployed,
    [property: JsonPropertyName("runtime_kind")] string RuntimeKind,
    [property: JsonPropertyName("deckies")] IReadOnlyList<AgentDeckyStatus> Deckies)
{
    public static AgentStatus From(string runtimeKind, RuntimeStatus status) => new(
        status.Deckies.Count > 0,
        runtimeKind,
        [.. status.Deckies.Select(AgentDeckyStatus.From)]);
}

/// <summary>One decky as the worker's runtime sees it: <c>running</c>, <c>degraded</c> or <c>failed</c>.</summary>
public sealed record AgentDeckyStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("config")] DeckyConfig? Config,
    [property: JsonPropertyName("services")] IReadOnlyList<AgentServiceStatus> Services)
{
    public static AgentDeckyStatus From(DeckyStatus decky) => new(
        decky.Name,
        decky.State switch
        {
            DeckyRunState.Running => DeckyShardState.Running,
            DeckyRunState.Degraded => DeckyShardState.Degraded,
            _ => DeckyShardState.Failed,
        },
        decky.Config,
        [.. decky.Services.Select(s => new AgentServiceStatus(s.Service, s.State.ToString().ToLowerInvariant(), s.Error, s.Endpoints))]);
}

public sealed record AgentServiceStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("endpoints")] IReadOnlyList<string>? Endpoints);

/// <summary>Answer of <c>/deploy</c>, <c>/teardown</c>, <c>/mutate</c> and <c>/self-destruct</c>.</summary>
public sealed record AgentActionResult(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("runtime")] AgentStatus? Runtime);

/// <summary><c>POST /swarm/heartbeat</c> on the master, every 30 s from each agent.</summary>
public sealed record HeartbeatRequest(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("agent_version")] string AgentVersion,
    [property: JsonPropertyName("status")] AgentStatus Status);

/// <summary>
/// The master's answer to a heartbeat that reported deckies it did not place on this worker (200; a
/// plain 204 means nothing to do). The master owns placement: the agent tears these down at once,
/// unless a deploy reached it after it sent the heartbeat (the answer may predate that placement).
/// </summary>
public sealed record HeartbeatAnswer(
    [property: JsonPropertyName("teardown")] IReadOnlyList<string> Teardown);
