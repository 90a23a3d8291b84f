using Decnet.Core.Swarm.Security;

namespace Decnet.Core.Notifications;

/// <summary>Published on every refusal, so open pages show it at once.</summary>
public sealed record SwarmSecurityEventRecorded(SwarmSecurityEvent Event);
