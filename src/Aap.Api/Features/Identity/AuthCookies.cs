using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The token cookies: <c>HttpOnly</c>, <c>Secure</c> (plain HTTP only in Development), explicit <c>SameSite</c>.
/// The refresh cookie goes only to the endpoints that use it.
/// </summary>
[FeatureSurface]
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
