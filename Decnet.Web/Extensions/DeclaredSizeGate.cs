using Microsoft.AspNetCore.Http.Features;

namespace Decnet.Web.Extensions;

/// <summary>
/// Refuses a request whose declared Content-Length is over its endpoint's body limit with 413 before
/// anything reads it. Kestrel would refuse it on the first read anyway, but the first reader can be
/// the anti-forgery check of a form, which reports any read failure as a bare 400. Chunked bodies are
/// still cut by Kestrel at the same limit while they stream in.
/// </summary>
public static class DeclaredSizeGate
{
    public static IApplicationBuilder UseDeclaredSizeGate(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            if (context.Request.ContentLength is { } declared && limit is { } max && declared > max)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                // Not read, so not reusable: the connection closes after this answer.
                context.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            }
            return next(context);
        });
}
