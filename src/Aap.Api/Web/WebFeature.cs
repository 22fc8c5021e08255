using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ApplicationParts;

namespace Aap.Api.Web;

/// <summary>
/// The server-rendered pages (docs/adr/0010-server-rendered-pages.md): Razor Pages under <c>Web/Pages</c>, static
/// files from <c>wwwroot</c>, htmx for partial updates. Web is a consumer like the seed dialects: it calls the
/// features' <c>[FeatureSurface]</c> services and the platform, nothing else.
/// </summary>
/// <remarks>
/// Every page requires a signed-in user unless its folder says otherwise: <c>/Account</c> and <c>/Error</c>, the home page
/// and the leaderboard are open to guests, <c>/Admin</c> needs the admin policy. A guest who opens a protected page is sent to
/// <c>/account/sign-in?returnUrl=...</c>; a signed-in user without the role gets the 403 page.
/// </remarks>
internal static class WebFeature
{
    /// <summary>The header htmx sends the antiforgery token in (wwwroot/js/site.js).</summary>
    public const string AntiforgeryHeader = "X-CSRF-Token";

    public const string AntiforgeryCookie = "aap_antiforgery";

    /// <summary>The most the cached page fragments may hold (counted in characters, as the tag helper does).</summary>
    public const long FragmentCacheBytes = 16 * 1024 * 1024;

    public static WebApplicationBuilder AddWebFront(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Web/Pages";
            options.Conventions.AuthorizeFolder("/");
            options.Conventions.AllowAnonymousToPage("/Index");
            options.Conventions.AllowAnonymousToFolder("/Account");
            options.Conventions.AllowAnonymousToPage("/Error");
            options.Conventions.AllowAnonymousToPage("/Leaderboard/Index");
            options.Conventions.AuthorizeFolder("/Admin", Policies.Admin);
        }).AddMvcOptions(mvc => mvc.Filters.Add<PageSecurityHeaders>())
            .ConfigureApplicationPartManager(KeepCompiledPagesOnly);
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = AntiforgeryHeader;
            antiforgery.Cookie.Name = AntiforgeryCookie;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        AntiforgeryCookieTokens.Register(services);
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PageAuthorizationResultHandler>();
        services.AddSingleton<Pages.Admin.DashboardFigures>();
        services.AddSingleton<Pages.Leaderboard.LeaderboardCursors>();
        // The <cache> fragments (FragmentStamps): a bound on what queries with ever new values can make them hold.
        services.Configure<Microsoft.AspNetCore.Mvc.TagHelpers.CacheTagHelperOptions>(cache => cache.SizeLimit = FragmentCacheBytes);
        return builder;
    }

    /// <summary>
    /// MVC finds controllers, view components and tag helpers by loading every type of each assembly part, and this
    /// assembly holds no such type of its own (<c>WebArchitectureTests</c> keeps it so): only its compiled pages, which
    /// come from its compiled-Razor part. Its assembly part is dropped, so that the start does not load every type of the
    /// service (and, through their base types and interfaces, the database drivers and SDKs a configuration does not
    /// use) for a search that finds nothing.
    /// </summary>
    private static void KeepCompiledPagesOnly(ApplicationPartManager parts)
    {
        var own = typeof(WebFeature).Assembly;
        parts.ApplicationParts.Remove(parts.ApplicationParts.OfType<AssemblyPart>().Single(part => part.Assembly == own));
    }

    /// <summary>
    /// The pages' middleware, between the platform's and authentication: HTML error pages for page requests, and the
    /// transparent renewal of an expired access cookie (so that authentication sees the renewed one).
    /// </summary>
    public static WebApplication UseWebFront(this WebApplication app)
    {
        // Not in a UseWhen branch: a branch's re-execution would not route again (so /error/{0} would not be found).
        // PageExceptions switches these status-code pages off for every request that is not a page request.
        app.UseStatusCodePagesWithReExecute("/error/{0}");
        app.UseMiddleware<PageExceptions>();
        app.UseMiddleware<BrowserSessionRenewal>();
        return app;
    }

    public static WebApplication MapWebFront(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorPages().WithStaticAssets().CacheSharedPages(app.Services);
        return app;
    }
}
