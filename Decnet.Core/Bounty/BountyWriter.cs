using Decnet.Core.Notifications;

namespace Decnet.Core.Bounty;

/// <summary>
/// Announces the bounties an ingest batch stored. The rows themselves are inserted by the ingest's
/// <see cref="Events.Storage.IngestStore"/> inside the batch's own transaction: a batch's logs and its
/// bounties commit together or not at all, so a retried batch neither loses nor doubles them.
/// </summary>
public sealed class BountyWriter(BountyQuery query, NotificationHub hub)
{
    /// <summary>Called after the batch committed: drops the cached first page, then tells live views.</summary>
    public void Committed(int count)
    {
        if (count <= 0)
        {
            return;
        }
        // Invalidate before publishing, so a page refreshing on the notification reads the new rows.
        query.Invalidate();
        hub.Publish(new BountiesFound(count));
    }
}
