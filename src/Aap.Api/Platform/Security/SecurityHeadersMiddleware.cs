using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Security;

/// <summary>Response security headers. Section <c>Security:Headers</c>.</summary>
internal sealed class SecurityHeadersOptions
{
    public const string SectionName = "Security:Headers";

    /// <summary>The API serves JSON only: nothing may load, frame or submit anything.</summary>
    [Required]
    public string ContentSecurityPolicy { get; set; } =
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>What the browsable API docs under <c>/docs</c> need, and nothing more.</summary>
    [Required]
    public string DocsContentSecurityPolicy { get; set; } =
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// What the server-rendered pages need: their own scripts, styles and images (data: and blob: for previews of a
    /// chosen file), requests and form posts to this origin only; no inline script or style.
    /// </summary>
    [Required]
    public string PagesContentSecurityPolicy { get; set; } =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
        "manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    [Required]
    public string ReferrerPolicy { get; set; } = "no-referrer";

    [Required]
    public string PermissionsPolicy { get; set; } =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    /// <summary>Send <c>Strict-Transport-Security</c> on HTTPS responses; on by default outside Development.</summary>
    public bool? Hsts { get; set; }

    [Range(0, 63_072_000)]
    public int HstsMaxAgeSeconds { get; set; } = 31_536_000;
}

/// <summary>Adds the security headers to every response, error responses included.</summary>
internal sealed class SecurityHeadersMiddleware
{
    private readonly RequestDelegate _next;
    private readonly SecurityHeadersOptions _options;
    private readonly bool _hsts;
    private readonly string _hstsValue;

    /// <summary>One callback for the middleware's life, given the request as its state: nothing allocated per request.</summary>
    private readonly Func<object, Task> _apply;

    public SecurityHeadersMiddleware(RequestDelegate next, IOptions<SecurityHeadersOptions> options, IHostEnvironment environment)
    {
        _next = next;
        _options = options.Value;
        _hsts = _options.Hsts ?? !environment.IsDevelopment();
        _hstsValue = string.Create(CultureInfo.InvariantCulture, $"max-age={_options.HstsMaxAgeSeconds}; includeSubDomains");
        _apply = Apply;
    }

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(_apply, context);
        return _next(context);
    }

    private Task Apply(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        // An endpoint may set a policy of its own (file downloads add a sandbox; pages set the pages' policy); keep it.
        if (!headers.ContainsKey("Content-Security-Policy"))
        {
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(OpenApi.OpenApiSetup.DocsPath)
                ? _options.DocsContentSecurityPolicy
                : _options.ContentSecurityPolicy;
        }
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        // Pages send "same-origin": under "no-referrer" a browser posts a form with "Origin: null", which the
        // cross-site cookie guard must refuse.
        if (!headers.ContainsKey("Referrer-Policy"))
        {
            headers["Referrer-Policy"] = _options.ReferrerPolicy;
        }

        headers["Permissions-Policy"] = _options.PermissionsPolicy;
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // The legacy XSS auditor is off in every current browser; "0" keeps old ones from introducing bugs.
        headers.XXSSProtection = "0";
        if (_hsts && context.Request.IsHttps)
        {
            headers.StrictTransportSecurity = _hstsValue;
        }

        headers.Remove("Server");
        headers.Remove("X-Powered-By");
        return Task.CompletedTask;
    }
}
