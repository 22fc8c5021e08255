using Aap.Api.Platform;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The token cookies: <c>HttpOnly</c>, <c>Secure</c> (plain HTTP only in Development), explicit <c>SameSite</c>.
/// Both have path <c>/</c>: the pages renew an expired access token from the refresh cookie on any page request.
/// </summary>
[FeatureSurface]
internal static class AuthCookies
{
    public const string Access = "aap_access";
    public const string Refresh = "aap_refresh";

    /// <summary>
    /// Where earlier versions wrote a copy of the refresh cookie (the auth endpoints only). <see cref="Clear"/> still
    /// deletes these, so that an upgraded browser loses them.
    /// </summary>
    public static readonly string[] LegacyRefreshPaths = ["/api/v1/auth", "/api/logout", "/api/token", "/api/refresh"];

    public static void WriteAccess(HttpContext context, string accessToken, int expiresIn) =>
        context.Response.Cookies.Append(Access, accessToken, Options(context, "/", TimeSpan.FromSeconds(expiresIn)));

    public static void Write(HttpContext context, TokenPair pair, TimeProvider clock)
    {
        WriteAccess(context, pair.AccessToken, pair.ExpiresIn);
        context.Response.Cookies.Append(Refresh, pair.RefreshToken, Options(context, "/", pair.RefreshExpiresAt - clock.GetUtcNow().UtcDateTime));
    }

    public static void Clear(HttpContext context)
    {
        context.Response.Cookies.Delete(Access, Options(context, "/", TimeSpan.Zero));
        context.Response.Cookies.Delete(Refresh, Options(context, "/", TimeSpan.Zero));
        foreach (var path in LegacyRefreshPaths)
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
