using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Diagnostics;

namespace Decnet.Web.Extensions;

/// <summary>
/// A bare 404 of a page read (an unknown address) shows the dashboard's own page; the status stays. API
/// calls get their ProblemDetails from the inner middleware first, and a response with a body is left
/// alone. Every other status and method keeps its bare answer: a 403 is not "not found", and a page
/// answers a POST only with its antiforgery form.
/// </summary>
public static class NotFoundPages
{
    public static IApplicationBuilder UseNotFoundPages(this IApplicationBuilder app)
    {
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.Use(async (context, next) =>
        {
            var pages = context.Features.Get<IStatusCodePagesFeature>();
            await next(context);
            if (pages is not null && (context.Response.StatusCode != StatusCodes.Status404NotFound
                || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))))
            {
                pages.Enabled = false;
            }
        });
        app.UseWhen(c => AuthenticationSetup.IsApi(c.Request), api => api.UseStatusCodePages());
        return app;
    }
}
