using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Streaming;

/// <summary>A redeemable ticket: for whom, which session (security stamp) and until when.</summary>
public sealed record StreamTicket(Guid UserId, string SecurityStamp, DateTimeOffset ExpiresAt);

/// <summary>
/// Single-use, short-lived tickets that open one event stream. Browsers' EventSource cannot send an
/// Authorization header, and a bearer token in a URL ends up in proxy and server logs; a ticket in the
/// URL is worth one connection for a few seconds only. Tickets live in memory (a restart voids them),
/// bounded in number overall and per user.
/// </summary>
public sealed class StreamTicketStore(TimeProvider time, IOptions<EventStreamOptions> options)
{
    private readonly ConcurrentDictionary<string, StreamTicket> _tickets = new(StringComparer.Ordinal);
    private readonly Lock _issueLock = new();

    public int Outstanding => _tickets.Count;

    /// <summary>A new ticket for the user, or null when the user or the store holds too many.</summary>
    public (string Ticket, DateTimeOffset ExpiresAt)? Issue(Guid userId, string securityStamp)
    {
        var limits = options.Value;
        var now = time.GetUtcNow();
        lock (_issueLock)
        {
            Purge(now);
            if (_tickets.Count >= limits.MaxOutstandingTickets || _tickets.Values.Count(t => t.UserId == userId) >= limits.MaxTicketsPerUser)
            {
                return null;
            }
            // 256 random bits, URL-safe: guessing one within its lifetime is hopeless.
            var ticket = Base64Url(RandomNumberGenerator.GetBytes(32));
            var expires = now + limits.TicketLifetime;
            _tickets[ticket] = new StreamTicket(userId, securityStamp, expires);
            return (ticket, expires);
        }
    }

    /// <summary>Removes the ticket whatever happens next: a second use, or a use after expiry, finds nothing.</summary>
    public StreamTicket? Redeem(string? ticket)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 64 || !_tickets.TryRemove(ticket, out var found))
        {
            return null;
        }
        return found.ExpiresAt > time.GetUtcNow() ? found : null;
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (key, ticket) in _tickets)
        {
            if (ticket.ExpiresAt <= now)
            {
                _tickets.TryRemove(key, out _);
            }
        }
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
