using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The authentication step of requests that present a credential. A token this process has validated before (what
/// nearly every signed-in request presents) is taken as <see cref="AapAuthenticationHandler"/> would take it, and its
/// caller set on the request here; anything else (a new token, an expired or ended one, Basic credentials, an unknown
/// scheme) goes through ASP.NET Core's authentication middleware and the handler, as before.
/// </summary>
/// <remarks>
/// The framework's path builds, per request, a handler provider, the handler and its options' events, a task for each
/// of their asynchronous steps, a second ticket after the claims transformation, and a set of the principals
/// transformed: about a fifth of what a signed-in request allocated, to repeat a look-up the validator answers from
/// memory. The outcome is the same: the request's user, and its authentication result (<see cref="IAuthenticateResultFeature"/>,
/// which authorization reads instead of authenticating again), with this scheme's name. Challenges and refusals (401,
/// 403) still go through the handler. AAP registers no claims transformation, which this step would skip; and the
/// framework's optional authentication meter counts only the requests that take its path.
/// </remarks>
internal sealed class KnownTokenAuthentication(RequestDelegate next, IAuthenticationSchemeProvider schemes, AccessTokenValidator tokens)
{
    private readonly AuthenticationMiddleware _framework = new(next, schemes);

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!AapAuthenticationHandler.CarriesCredentials(request))
        {
            return next(context);
        }

        var token = AapAuthenticationHandler.PresentedToken(request, out var type);
        if (type is null || !tokens.TryRemembered(token, type, out var identity) || identity is null)
        {
            return _framework.Invoke(context);
        }

        var caller = new AuthenticatedCaller(AapAuthenticationHandler.Success(identity));
        context.Features.Set<IHttpAuthenticationFeature>(caller);
        context.Features.Set<IAuthenticateResultFeature>(caller);
        return next(context);
    }

    /// <summary>
    /// The request's user and the result it came from, as the framework's middleware keeps them: setting the user
    /// afterwards drops the result, which no longer describes it.
    /// </summary>
    private sealed class AuthenticatedCaller(AuthenticateResult result) : IHttpAuthenticationFeature, IAuthenticateResultFeature
    {
        private AuthenticateResult? _result = result;
        private ClaimsPrincipal? _user = result.Principal;

        public ClaimsPrincipal? User
        {
            get => _user;
            set
            {
                _user = value;
                _result = null;
            }
        }

        public AuthenticateResult? AuthenticateResult
        {
            get => _result;
            set
            {
                _result = value;
                _user = value?.Principal;
            }
        }
    }
}
