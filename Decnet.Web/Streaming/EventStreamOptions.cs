using System.ComponentModel.DataAnnotations;
using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Streaming;

/// <summary>Limits of the live event stream (<c>GET /api/v1/stream</c>), section <c>Decnet:Stream</c>.</summary>
public sealed class EventStreamOptions
{
    public const string Section = "Decnet:Stream";

    /// <summary>How long a ticket from <c>POST /api/v1/stream/ticket</c> can be redeemed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unredeemed tickets kept at once (all users); more requests get 429 until some expire.</summary>
    [Range(1, 100_000)]
    public int MaxOutstandingTickets { get; set; } = 1024;

    /// <summary>Unredeemed tickets one user may hold.</summary>
    [Range(1, 1000)]
    public int MaxTicketsPerUser { get; set; } = 16;

    /// <summary>Open streams on this master; more are refused with 429.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentStreams { get; set; } = 32;

    /// <summary>Open streams one user may hold.</summary>
    [Range(1, 1000)]
    public int MaxStreamsPerUser { get; set; } = 4;

    /// <summary>Messages waiting to be written to one client.</summary>
    [Range(1, 100_000)]
    public int BufferSize { get; set; } = 256;

    /// <summary>A client whose queue stays full this long is dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan SlowClientTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every this long the stream sends the headline statistics (also after new events, at most this often).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an open stream re-checks its user (deleted, logged out, password or role changed ends it).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan RevalidateInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After a slow client is dropped, how long its last message may take before the connection is cut.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan DropGrace { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Every problem with <c>Decnet:Stream</c> at once, each with its key.</summary>
public sealed class EventStreamOptionsValidator : IValidateOptions<EventStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, EventStreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(EventStreamOptions.Section).Annotations(options);
        if (options.MaxTicketsPerUser > options.MaxOutstandingTickets)
        {
            problems.Add(nameof(options.MaxTicketsPerUser), $"({options.MaxTicketsPerUser}) cannot exceed MaxOutstandingTickets ({options.MaxOutstandingTickets}).");
        }
        if (options.MaxStreamsPerUser > options.MaxConcurrentStreams)
        {
            problems.Add(nameof(options.MaxStreamsPerUser), $"({options.MaxStreamsPerUser}) cannot exceed MaxConcurrentStreams ({options.MaxConcurrentStreams}).");
        }
        return problems.Result();
    }
}
