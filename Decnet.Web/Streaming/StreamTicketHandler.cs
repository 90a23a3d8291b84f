using System.Security.Claims;
using System.Text.Encodings.Web;
using Decnet.Core.Users;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Streaming;

/// <summary>
/// Authenticates the stream request by its <c>ticket</c> query parameter. The ticket is consumed on
/// the first attempt, whatever the outcome. A request that also carries a bearer token must be the
/// ticket's own user. Without a ticket the caller's usual credentials decide (so a signed-in caller
/// that forgot the ticket learns it needs one, and one that must change its password gets 403).
/// </summary>
public sealed class StreamTicketHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    StreamTicketStore tickets,
    UserDirectory users) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "stream-ticket";
    public const string QueryName = "ticket";

    /// <summary><see cref="HttpContext.Items"/> key of the redeemed <see cref="StreamTicket"/>.</summary>
    public static readonly object TicketItem = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var own = await Context.AuthenticateAsync(AuthenticationSetup.Scheme);
        var presented = Request.Query[QueryName].ToString();
        if (presented.Length == 0)
        {
            return own.Succeeded ? AuthenticateResult.Success(new AuthenticationTicket(own.Principal!, SchemeName)) : AuthenticateResult.NoResult();
        }
        var ticket = tickets.Redeem(presented);
        if (ticket is null)
        {
            return AuthenticateResult.Fail("The stream ticket is unknown, already used or expired.");
        }
        if (own.Succeeded && own.Principal!.GetUserId() != ticket.UserId)
        {
            Logger.LogWarning("A stream ticket of user {TicketUser} was presented with the credentials of user {Caller}", ticket.UserId, own.Principal!.GetUserId());
            return AuthenticateResult.Fail("The stream ticket belongs to another user.");
        }
        var user = await users.FindAsync(ticket.UserId, Context.RequestAborted);
        if (user is null || !string.Equals(user.SecurityStamp, ticket.SecurityStamp, StringComparison.Ordinal))
        {
            return AuthenticateResult.Fail("The session that asked for this ticket has ended.");
        }
        Context.Items[TicketItem] = ticket;
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(DecnetClaims.Identity(user, SchemeName)), SchemeName));
    }
}
