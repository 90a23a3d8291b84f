using System.Reflection;
using Decnet.Core.Export;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.Metadata;

namespace Decnet.Web.Export;

/// <summary>
/// A download of every row a filter matches, streamed as it is read: the rows go to the client in
/// buffers of <see cref="ExportWriter.FlushThreshold"/> bytes and are never gathered first, so an export
/// of any size runs in constant memory. At most <see cref="ExportGate.MaxConcurrent"/> run at once.
/// </summary>
public sealed class ExportResult(string kind, ExportFormat format, IReadOnlyList<string> columns, Func<ExportWriter, CancellationToken, Task> writeRows)
    : IResult, IEndpointMetadataProvider
{
    public string Kind => kind;

    public ExportFormat Format => format;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var slot = httpContext.RequestServices.GetRequiredService<ExportGate>().TryEnter();
        if (slot is null)
        {
            httpContext.Response.Headers.RetryAfter = "10";
            await TypedResults.Problem($"{ExportGate.MaxConcurrent} exports are already running; try again when one has finished.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many exports").ExecuteAsync(httpContext);
            return;
        }
        var time = httpContext.RequestServices.GetRequiredService<TimeProvider>();
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ExportFormats.ContentType(format);
        response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(kind, format, time.GetUtcNow())}\"";
        response.Headers.CacheControl = "no-store";
        var cancellationToken = httpContext.RequestAborted;
        await using var writer = ExportWriter.Create(format, response.Body, columns);
        await writeRows(writer, cancellationToken);
        await writer.CompleteAsync(cancellationToken);
        httpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Decnet.Export")
            .LogInformation("Exported {Rows} {Kind} rows as {Format} for {User}", writer.Rows, kind, format, httpContext.User.GetUsername());
    }

    /// <summary>decnet-logs-20270310T093000Z.csv: what it is, when it was taken.</summary>
    public static string FileName(string kind, ExportFormat format, DateTimeOffset at) =>
        $"decnet-{kind}-{at.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.{ExportFormats.Extension(format)}";

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/csv", "application/json"]));
}
