namespace Aap.Api.Features.Identity;

/// <summary>
/// The token cookies: <c>HttpOnly</c>, <c>Secure</c> (plain HTTP only in Development), explicit <c>SameSite</c>.
/// The refresh cookie goes only to the endpoints that use it.
/// </summary>
internal static class AuthCookies
{
    public const string Access = "aap_access";
    public const string Refresh = "aap_refresh";

    /// <summary>Where the refresh cookie is sent: the auth endpoints of the product API and of the seed dialects.</summary>
    public static readonly string[] RefreshPaths = ["/api/v1/auth", "/api/logout", "/api/token", "/api/refresh"];

    public static void WriteAccess(HttpContext context, string accessToken, int expiresIn) =>
        context.Response.Cookies.Append(Access, accessToken, Options(context, "/", TimeSpan.FromSeconds(expiresIn)));

    public static void Write(HttpContext context, TokenPair pair, TimeProvider clock)
    {
        WriteAccess(context, pair.AccessToken, pair.ExpiresIn);
        var lifetime = pair.RefreshExpiresAt - clock.GetUtcNow().UtcDateTime;
        foreach (var path in RefreshPaths)
        {
            context.Response.Cookies.Append(Refresh, pair.RefreshToken, Options(context, path, lifetime));
        }
    }

    public static void Clear(HttpContext context)
    {
        context.Response.Cookies.Delete(Access, Options(context, "/", TimeSpan.Zero));
        foreach (var path in RefreshPaths)
        {
            context.Response.Cookies.Delete(Refresh, Options(context, path, TimeSpan.Zero));
        }
    }

    public static string? RefreshFrom(HttpRequest request) =>
        request.Cookies.TryGetValue(Refresh, out var value) && value.Length > 0 ? value : null;

    private static CookieOptions Options(HttpContext context, string path, TimeSpan maxAge)
    {
        var auth = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value;
        var environment = context.RequestServices.GetRequiredService<IHostEnvironment>();
        return new CookieOptions
        {
            HttpOnly = true,
            Secure = auth.SecureCookies ?? !environment.IsDevelopment(),
            SameSite = Enum.Parse<SameSiteMode>(auth.CookieSameSite),
            Path = path,
            MaxAge = maxAge,
            IsEssential = true,
        };
    }
}

/// <summary>
/// Refuses state-changing requests that a browser authenticated with AAP's cookies from another site: when such a
/// request carries an <c>Origin</c> (or, lacking it, a <c>Referer</c>) that is neither this service nor an allowed
/// CORS origin, it gets 403. Requests with an <c>Authorization</c> header, and clients that send neither header,
/// are not affected.
/// </summary>
internal sealed class CrossSiteCookieGuard(RequestDelegate next, Microsoft.Extensions.Options.IOptions<Platform.Security.CorsOptions> cors)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) ||
            request.Headers.Authorization.Count > 0 ||
            !(request.Cookies.ContainsKey(AuthCookies.Access) || request.Cookies.ContainsKey(AuthCookies.Refresh)))
        {
            await next(context);
            return;
        }

        var source = request.Headers.Origin.ToString();
        if (source.Length == 0 && Uri.TryCreate(request.Headers.Referer.ToString(), UriKind.Absolute, out var referer))
        {
            source = referer.GetLeftPart(UriPartial.Authority);
        }

        var own = $"{request.Scheme}://{request.Host}";
        if (source.Length == 0 || string.Equals(source, own, StringComparison.OrdinalIgnoreCase) ||
            cors.Value.AllowedOrigins.Contains(source, StringComparer.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 403,
                Detail = "A cookie-authenticated request from another site is refused.",
                Extensions = { ["code"] = "cross_site_request" },
            },
        });
    }
}
