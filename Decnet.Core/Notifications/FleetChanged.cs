using Decnet.Core.Deckies.Runtime;

namespace Decnet.Core.Notifications;

/// <summary>Published on the notification hub whenever the fleet changes (deploy, mutation, interval, teardown).</summary>
public sealed record FleetChanged(string Reason, string? DeckyName, RuntimeStatus Status);
