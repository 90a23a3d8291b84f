using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Decnet.Core.Configuration;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Core.Users;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Decnet.Web.Streaming;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Streaming;

/// <summary>The live event stream (server-sent events) and the tickets that open it.</summary>
public static class StreamApi
{
    /// <summary>Keyed <see cref="TimeProvider"/> for the ticket clock alone (tests move it; the rest of the host keeps real time).</summary>
    public const string TicketClockKey = "stream-tickets";

    public static IServiceCollection AddDecnetEventStream(this IServiceCollection services)
    {
        services.AddValidatedOptions<EventStreamOptions, EventStreamOptionsValidator>(EventStreamOptions.Section);
        services.AddSingleton(sp => new StreamTicketStore(
            sp.GetKeyedService<TimeProvider>(TicketClockKey) ?? sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<EventStreamOptions>>()));
        services.AddSingleton<EventStreamHub>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, StreamTicketHandler>(StreamTicketHandler.SchemeName, null);
        return services;
    }

    public static IEndpointRouteBuilder MapStreamApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/stream").WithTags("Stream");
        group.MapPost("/ticket", IssueTicket).RequireAuthorization(Policies.Viewer)
            .WithName("IssueStreamTicket")
            .WithSummary("A single-use ticket, valid for a few seconds, that opens one event stream (GET /api/v1/stream?ticket=...).")
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapGet("/", StreamAsync)
            .RequireAuthorization(new AuthorizeAttribute(Policies.Viewer) { AuthenticationSchemes = StreamTicketHandler.SchemeName })
            .WithName("EventStream")
            .WithSummary("Server-sent events: new events matching q (the log search syntax) as 'log', the statistics as 'stats', and 'end' when the stream is closed by the server. "
                + "Needs ?ticket= from POST /api/v1/stream/ticket; the ticket works once. Resumes after Last-Event-ID.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    public static Results<Ok<StreamTicketResponse>, ProblemHttpResult> IssueTicket(HttpContext http, StreamTicketStore tickets, IOptions<EventStreamOptions> options)
    {
        if (http.User.GetUserId() is not { } id || http.User.FindFirst(DecnetClaims.SecurityStamp)?.Value is not { } stamp)
        {
            return TypedResults.Problem("The caller has no user id.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }
        var issued = tickets.Issue(id, stamp);
        if (issued is not { } ticket)
        {
            return TooMany("Too many unredeemed stream tickets; redeem or let some expire first.");
        }
        return TypedResults.Ok(new StreamTicketResponse(ticket.Ticket, ticket.ExpiresAt, (int)options.Value.TicketLifetime.TotalSeconds));
    }

    public static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> StreamAsync(
        HttpContext http,
        [FromQuery(Name = "q")] string? q,
        [FromQuery(Name = "search")] string? search,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        LogSearch logs,
        EventStreamHub hub,
        NotificationHub notifications,
        UserDirectory users,
        IOptions<EventStreamOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (http.Items[StreamTicketHandler.TicketItem] is not StreamTicket ticket)
        {
            return ApiProblems.Invalid("A stream ticket is required: POST /api/v1/stream/ticket, then GET /api/v1/stream?ticket=<ticket>.");
        }
        var parsed = LogQuery.Parse(q ?? search);
        if (!parsed.Succeeded)
        {
            return ApiProblems.Invalid($"Invalid search: {parsed.Error}");
        }
        long startAfter;
        if (!string.IsNullOrEmpty(lastEventId))
        {
            if (!long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out startAfter))
            {
                return ApiProblems.Invalid("Last-Event-ID must be the id of an event this stream sent.");
            }
        }
        else
        {
            // Only what arrives from now on: history is what /api/v1/logs is for.
            startAfter = await logs.LatestIdAsync(cancellationToken);
        }
        var lease = hub.TryOpen(ticket.UserId);
        if (lease is null)
        {
            return TooMany("Too many open event streams; close one first.");
        }
        var session = new EventStreamSession(parsed.Query!, startAfter, ticket, logs, hub, notifications, users, options.Value, time);
        var completed = new CancellationTokenSource();
        // Completion callbacks run last-registered first: this one cancels and disposes its own source.
        http.Response.OnCompleted(async () =>
        {
            await completed.CancelAsync();
            completed.Dispose();
        });
        http.Response.RegisterForDispose(session);
        http.Response.RegisterForDispose(lease);
        http.Response.Headers["X-Accel-Buffering"] = "no";
        _ = session.RunAsync(http.RequestAborted);
        return TypedResults.ServerSentEvents(MessagesAsync(session, http, options.Value.DropGrace, completed.Token));
    }

    /// <summary>Drains the session; each pushed event runs in its own span linked to the row's ingest span.</summary>
    private static async IAsyncEnumerable<SseItem<object>> MessagesAsync(EventStreamSession session, HttpContext http, TimeSpan dropGrace,
        CancellationToken completed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, cancellationToken);
        var reader = session.Messages;
        while (true)
        {
            bool more;
            try
            {
                more = await reader.WaitToReadAsync(aborted.Token);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            if (!more || session.Dropped)
            {
                break;
            }
            while (!session.Dropped && reader.TryRead(out var message))
            {
                using var activity = message.Row is { } row ? EventStreamSession.StartPushActivity(row) : null;
                yield return new SseItem<object>(message.Data, message.Type) { EventId = message.Id?.ToString(CultureInfo.InvariantCulture) };
            }
        }
        if (session.Dropped)
        {
            // The backlog is discarded; if even this last word cannot be written, the connection is cut.
            _ = AbortAfterAsync(http, dropGrace, completed);
            yield return new SseItem<object>(new { reason = "dropped: the client did not keep up" }, "end");
        }
    }

    private static async Task AbortAfterAsync(HttpContext http, TimeSpan grace, CancellationToken completed)
    {
        try
        {
            await Task.Delay(grace, completed);
            http.Abort();
        }
        catch (OperationCanceledException)
        {
            // The response finished in time.
        }
    }

    private static ProblemHttpResult TooMany(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
}

public sealed record StreamTicketResponse(string Ticket, DateTimeOffset ExpiresAt, int ExpiresIn);
