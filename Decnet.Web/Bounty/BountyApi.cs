using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Bounty;

public static class BountyApi
{
    public static IEndpointRouteBuilder MapBountyApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/bounty").WithTags("Bounty");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.Viewer)
            .WithName("ListBounty").WithSummary("Credentials and fingerprints attackers left behind, newest first.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static async Task<Results<Ok<BountyListResponse>, SharedJson<BountyListResponse>, ProblemHttpResult>> ListAsync(
        BountyQuery query, CancellationToken cancellationToken,
        int? limit = null, int? offset = null, string? bounty_type = null, string? search = null)
    {
        var take = limit ?? BountyQuery.DefaultLimit;
        var skip = offset ?? 0;
        if (!BountyQuery.IsValidLimit(take))
        {
            return ApiProblems.Invalid($"limit must be between 1 and {BountyQuery.MaxLimit}.");
        }
        if (skip < 0)
        {
            return ApiProblems.Invalid("offset must not be negative.");
        }
        var page = await query.ListAsync(take, skip, bounty_type, search, cancellationToken);
        BountyListResponse Response() => new(page.Total, take, skip, page.Items.Select(BountyView.From).ToList());
        // Every page comes from a cache shared by the readers of the same query: serialised once per instance.
        return SharedJson.Of(page, Response);
    }
}

public sealed record BountyListResponse(int Total, int Limit, int Offset, IReadOnlyList<BountyView> Data);

/// <summary>One bounty on the wire; the payload is the stored JSON object itself, not a string of it.</summary>
public sealed record BountyView(long Id, DateTime Timestamp, string Decky, string Service, string? AttackerIp, string BountyType, JsonElement Payload)
{
    public static BountyView From(BountyRecord record) =>
        new(record.Id, DateTime.SpecifyKind(record.Timestamp, DateTimeKind.Utc), record.Decky, record.Service, record.AttackerIp, record.BountyType, Parse(record.Payload));

    private static JsonElement Parse(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // Rows are written by our own writer as JSON objects; anything else is shown as its text.
            return JsonSerializer.SerializeToElement(payload);
        }
    }
}
