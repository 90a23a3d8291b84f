using Decnet.Core.Events;

namespace Decnet.Core.Notifications;

/// <summary>Published on the notification hub after each committed ingest batch.</summary>
/// <param name="Count">Rows inserted by the batch (duplicates excluded).</param>
/// <param name="LastId">Highest <c>logs.Id</c> the batch wrote.</param>
/// <param name="Newest">The last few inserted events, newest first, for live views.</param>
public sealed record EventsIngested(int Count, long LastId, IReadOnlyList<EventSummary> Newest);
