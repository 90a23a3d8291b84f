using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Streaming;

/// <summary>GET /api/v1/stream over real HTTP against the whole master, fed by the real ingest.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EventStreamApiTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _ticketClock = new(DateTimeOffset.UtcNow);
    private readonly DecnetWebFactory _factory;
    private User _viewer = null!;
    private HttpClient _client = null!;

    public EventStreamApiTests()
    {
        _factory = new DecnetWebFactory(
            new Dictionary<string, string?>
            {
                ["Decnet:Stream:StatsInterval"] = "00:00:00.300",
                ["Decnet:Stream:RevalidateInterval"] = "00:00:00.100",
                ["Decnet:Stream:MaxStreamsPerUser"] = "2",
            },
            services => services.AddKeyedSingleton<TimeProvider>(StreamApi.TicketClockKey, _ticketClock));
    }

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        var (user, token) = await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer);
        _viewer = user;
        _client = _factory.CreateClient(token);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private void Emit(string decky, string eventType, params (string Key, string Value)[] fields) =>
        _factory.Services.GetRequiredService<ChannelEventSink>().Publish(new HoneypotEvent(
            DateTimeOffset.UtcNow, decky, "ssh", eventType,
            [new("src_ip", "198.51.100.40"), .. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))]));

    [Fact]
    public async Task A_ticket_opens_one_stream_and_its_second_use_gets_401()
    {
        var ticket = await SseClient.TicketAsync(_client);
        using var anonymous = _factory.CreateClient();

        var (status, stream) = await SseClient.OpenAsync(anonymous, "ticket=" + ticket);
        Assert.Equal(HttpStatusCode.OK, status);
        await using (stream)
        {
            Assert.Equal("text/event-stream", stream!.Response.Content.Headers.ContentType?.MediaType);
            var stats = await stream.NextOfTypeAsync("stats");
            Assert.True(stats.Json.TryGetProperty("total_logs", out _), stats.Data);
        }

        var (again, _) = await SseClient.OpenAsync(anonymous, "ticket=" + ticket);
        Assert.Equal(HttpStatusCode.Unauthorized, again);
    }

    [Fact]
    public async Task A_ticket_past_its_lifetime_gets_401()
    {
        var ticket = await SseClient.TicketAsync(_client);
        _ticketClock.Advance(TimeSpan.FromSeconds(31));
        using var anonymous = _factory.CreateClient();

        var (status, _) = await SseClient.OpenAsync(anonymous, "ticket=" + ticket);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task A_ticket_works_only_for_its_own_user_and_session()
    {
        var (_, otherToken) = await _factory.CreateActiveUserAsync("other", UserRole.Admin);
        using var other = _factory.CreateClient(otherToken);
        var ticket = await SseClient.TicketAsync(_client);

        var (withOtherUser, _) = await SseClient.OpenAsync(other, "ticket=" + ticket);
        Assert.Equal(HttpStatusCode.Unauthorized, withOtherUser);

        // A ticket asked for before a logout dies with the session that asked for it.
        var beforeLogout = await SseClient.TicketAsync(_client);
        await _factory.Users.RevokeSessionsAsync(_viewer.Id, CancellationToken.None);
        using var anonymous = _factory.CreateClient();
        var (afterLogout, _) = await SseClient.OpenAsync(anonymous, "ticket=" + beforeLogout);
        Assert.Equal(HttpStatusCode.Unauthorized, afterLogout);
    }

    [Fact]
    public async Task Without_a_ticket_anonymous_callers_get_401_and_signed_in_callers_get_400()
    {
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await SseClient.OpenAsync(anonymous, "q=decky:x")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SseClient.OpenAsync(anonymous, "ticket=made-up")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SseClient.OpenAsync(_client, "q=decky:x")).Status);
        using var noToken = await anonymous.PostAsync(new Uri("/api/v1/stream/ticket", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task An_invalid_search_is_a_400_and_the_ticket_is_spent()
    {
        var ticket = await SseClient.TicketAsync(_client);
        Assert.Equal(HttpStatusCode.BadRequest, (await SseClient.OpenAsync(_client, $"ticket={ticket}&q=" + Uri.EscapeDataString("\"unbalanced"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SseClient.OpenAsync(_client, $"ticket={ticket}")).Status);
    }

    [Fact]
    public async Task New_events_arrive_live_and_only_those_matching_the_query()
    {
        var ticket = await SseClient.TicketAsync(_client);
        var (status, stream) = await SseClient.OpenAsync(_client, $"ticket={ticket}&q=" + Uri.EscapeDataString("decky:stream-a user:root"));
        Assert.Equal(HttpStatusCode.OK, status);
        await using (stream)
        {
            await stream!.NextOfTypeAsync("stats");

            Emit("stream-a", "command", ("cmd", "id"), ("user", "root"));
            Emit("stream-b", "command", ("cmd", "whoami"), ("user", "root"));
            Emit("stream-a", "command", ("cmd", "ls"), ("user", "guest"));
            Emit("stream-a", "command", ("cmd", "uname -a"), ("user", "root"));

            var first = await stream.NextOfTypeAsync("log");
            var second = await stream.NextOfTypeAsync("log");
            Assert.Equal("stream-a", first.Json.GetProperty("decky").GetString());
            Assert.Equal("id", first.Json.GetProperty("fields").GetProperty("cmd").GetString());
            Assert.Equal("uname -a", second.Json.GetProperty("fields").GetProperty("cmd").GetString());
            Assert.Equal("command", second.Json.GetProperty("event_type").GetString());
            Assert.True(long.Parse(second.Id!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(first.Id!, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Each_pushed_event_is_a_span_linked_to_the_span_that_stored_its_row()
    {
        var pushed = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EventStreamSession.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = pushed.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var ticket = await SseClient.TicketAsync(_client);
        var (_, stream) = await SseClient.OpenAsync(_client, $"ticket={ticket}&q=decky:traced");
        await using (stream)
        {
            await stream!.NextOfTypeAsync("stats");
            Emit("traced", "connect");
            var log = await stream.NextOfTypeAsync("log");
            var traceId = log.Json.GetProperty("trace_id").GetString();
            var spanId = log.Json.GetProperty("span_id").GetString();
            Assert.Matches("^[0-9a-f]{32}$", traceId);
            Assert.Matches("^[0-9a-f]{16}$", spanId);
            var rowId = long.Parse(log.Id!, System.Globalization.CultureInfo.InvariantCulture);

            // The push span ends once the event is written, i.e. when the stream moves on (stats follow every 300 ms).
            await stream.NextOfTypeAsync("stats");
            var span = await WaitForAsync(() => pushed.FirstOrDefault(a => a.GetTagItem("decnet.log.id") is long id && id == rowId));
            var link = Assert.Single(span.Links);
            Assert.Equal(traceId, link.Context.TraceId.ToHexString());
            Assert.Equal(spanId, link.Context.SpanId.ToHexString());
        }
    }

    [Fact]
    public async Task A_stream_ends_when_its_user_logs_out_everywhere()
    {
        var ticket = await SseClient.TicketAsync(_client);
        var (_, stream) = await SseClient.OpenAsync(_client, $"ticket={ticket}");
        await using (stream)
        {
            await stream!.NextOfTypeAsync("stats");

            await _factory.Users.RevokeSessionsAsync(_viewer.Id, CancellationToken.None);

            var end = await stream.NextOfTypeAsync("end");
            Assert.Equal("revoked", end.Json.GetProperty("reason").GetString());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await stream.NextAsync(timeout.Token) is not null)
            {
                // Drains to the end of the response.
            }
        }
    }

    [Fact]
    public async Task Open_streams_per_user_are_capped_and_a_closed_one_frees_its_slot()
    {
        var hub = _factory.Services.GetRequiredService<EventStreamHub>();
        var (_, first) = await SseClient.OpenAsync(_client, "ticket=" + await SseClient.TicketAsync(_client));
        var (_, second) = await SseClient.OpenAsync(_client, "ticket=" + await SseClient.TicketAsync(_client));
        await using (first)
        await using (second)
        {
            await first!.NextOfTypeAsync("stats");
            await second!.NextOfTypeAsync("stats");
            var (third, _) = await SseClient.OpenAsync(_client, "ticket=" + await SseClient.TicketAsync(_client));
            Assert.Equal(HttpStatusCode.TooManyRequests, third);
        }
        await WaitForAsync(() => hub.OpenStreams == 0 ? "closed" : null);
        var (reopened, again) = await SseClient.OpenAsync(_client, "ticket=" + await SseClient.TicketAsync(_client));
        await using (again)
        {
            Assert.Equal(HttpStatusCode.OK, reopened);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe) where T : class
    {
        for (var i = 0; i < 300; i++)
        {
            if (probe() is { } found)
            {
                return found;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("The expected state never arrived.");
    }
}
