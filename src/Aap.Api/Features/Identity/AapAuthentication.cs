using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>
/// One scheme for the three ways a caller proves who they are: <c>Authorization: Bearer</c> (an access token),
/// <c>Authorization: Basic</c> (RFC 7617, user name or e-mail and password, under the same limits as login, checked
/// only on routes that need a caller) and
/// the access-token cookie. Access tokens are validated without a database call.
/// </summary>
/// <remarks>
/// The handler is created for every request that presents a credential (<see cref="CarriesCredentials"/>) other than
/// a token validated before (<see cref="KnownTokenAuthentication"/> takes those), and resolves the services it needs
/// only for the kind presented: building the account store (and its database context) to check a token would cost
/// more than the request itself.
/// </remarks>
internal sealed class AapAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AccessTokenValidator tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private AccountService Accounts => Context.RequestServices.GetRequiredService<AccountService>();

    public const string SchemeName = "aap";
    public const string ViaCookie = "Cookie";

    private const string ThrottledItem = "aap.auth.throttled";

    /// <summary>
    /// True when the request carries what <see cref="HandleAuthenticateAsync"/> reads: an <c>Authorization</c> header
    /// or the access cookie. For any other request the handler's answer is "no result", so
    /// <see cref="KnownTokenAuthentication"/> does not build a handler to hear it.
    /// </summary>
    public static bool CarriesCredentials(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || (request.Headers.Cookie.Count > 0 && request.Cookies.ContainsKey(AuthCookies.Access));

    /// <summary>
    /// The access token the request presents and how: the rest of an <c>Authorization: Bearer</c> header (type
    /// <c>Bearer</c>), or, when there is no <c>Authorization</c> header, a non-empty access cookie (type
    /// <see cref="ViaCookie"/>). Null type (and an empty token) when it presents no token: another
    /// <c>Authorization</c> scheme, or nothing.
    /// </summary>
    internal static ReadOnlySpan<char> PresentedToken(HttpRequest request, out string? authenticationType)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            authenticationType = "Bearer";
            return authorization.AsSpan("Bearer ".Length).Trim();
        }

        if (authorization.Length == 0 && request.Headers.Cookie.Count > 0 &&
            request.Cookies.TryGetValue(AuthCookies.Access, out var cookie) && cookie.Length > 0)
        {
            authenticationType = ViaCookie;
            return cookie;
        }

        authenticationType = null;
        return default;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = PresentedToken(Request, out var type);
        if (type is not null)
        {
            // A client presents the same token on every request: one validated before is found by the token's text
            // where it stands, and only a new token is copied out to be validated.
            var identity = tokens.TryRemembered(token, type, out var remembered) ? remembered : await tokens.ValidateAsync(token.ToString(), type);
            return identity is null ? AuthenticateResult.Fail("invalid_token") : Success(identity);
        }

        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            // A password costs a hash and a counted attempt: it is checked only where a route needs a caller, never
            // on a public route that merely receives it (a health probe, the catalog).
            return EndpointAccess.RequiresCaller(Context.GetEndpoint())
                ? await BasicAsync(authorization["Basic ".Length..].Trim())
                : AuthenticateResult.NoResult();
        }

        return authorization.Length > 0 ? AuthenticateResult.Fail("unsupported_scheme") : AuthenticateResult.NoResult();
    }

    private async Task<AuthenticateResult> BasicAsync(string encoded)
    {
        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(encoded));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return AuthenticateResult.Fail("malformed_basic_credentials");
        }

        // RFC 7617: the user id ends at the first colon; the password may contain more.
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return AuthenticateResult.Fail("malformed_basic_credentials");
        }

        var check = await Accounts.AuthenticateAsync(decoded[..colon], decoded[(colon + 1)..], Context.Connection.RemoteIpAddress, Context.RequestAborted);
        if (!check.Succeeded)
        {
            if (check.Failure.Status != StatusCodes.Status429TooManyRequests)
            {
                return AuthenticateResult.Fail("invalid_credentials");
            }

            Context.Items[ThrottledItem] = check.Failure;
            return AuthenticateResult.Fail("too_many_attempts");
        }

        var user = check.Value;

        return Success(new ClaimsIdentity(
            [
                new Claim(Caller.SubjectClaim, user.Id.ToString(CultureInfo.InvariantCulture)),
                new Claim(Caller.RoleClaim, user.Role),
            ],
            "Basic",
            Caller.SubjectClaim,
            Caller.RoleClaim));
    }

    /// <summary>The result of a caller authenticated by this scheme as <paramref name="identity"/>.</summary>
    internal static AuthenticateResult Success(ClaimsIdentity identity) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        if (failure == "too_many_attempts" && Context.Items[ThrottledItem] is Failure throttled)
        {
            throttled.WriteHeaders(Response);
            await WriteProblemAsync(throttled.Status, throttled.Code, throttled.Detail);
            return;
        }

        var bearer = failure == "invalid_token" ? "Bearer realm=\"aap\", error=\"invalid_token\"" : "Bearer realm=\"aap\"";
        Response.Headers.WWWAuthenticate = new[] { bearer, "Basic realm=\"aap\", charset=\"UTF-8\"" };
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, failure switch
        {
            "invalid_token" => "The access token is invalid or has expired.",
            "invalid_credentials" => "Invalid credentials.",
            "malformed_basic_credentials" => "The Basic credentials are not base64 of 'user:password'.",
            _ => "Authentication is required.",
        });
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Your role does not allow this.");

    private async Task WriteProblemAsync(int status, string code, string detail)
    {
        Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Detail = detail };
        problem.Extensions["code"] = code;
        await Context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}

