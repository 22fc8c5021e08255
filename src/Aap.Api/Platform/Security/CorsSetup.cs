using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Security;

/// <summary>Cross-origin access. Section <c>Cors</c>.</summary>
internal sealed class CorsOptions
{
    public const string SectionName = "Cors";

    /// <summary>Origins (scheme, host and port, no path) allowed to call the API from a browser; none by default.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Whether browsers may send cookies cross-origin to the allowed origins.</summary>
    public bool AllowCredentials { get; set; } = true;

    [System.ComponentModel.DataAnnotations.Range(0, 86_400)]
    public int PreflightMaxAgeSeconds { get; set; } = 600;
}

internal sealed class CorsOptionsValidator : IValidateOptions<CorsOptions>
{
    public ValidateOptionsResult Validate(string? name, CorsOptions options)
    {
        var bad = options.AllowedOrigins.Where(o => !IsOrigin(o)).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Cors:AllowedOrigins must hold origins like 'https://app.example.com' (no path, no wildcard): {string.Join(", ", bad)}");
    }

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
        uri.Scheme is "http" or "https" &&
        uri.AbsolutePath == "/" && !origin.EndsWith('/') &&
        string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.UserInfo);
}

internal static class CorsSetup
{
    public static readonly string[] AllowedMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    public static readonly string[] AllowedHeaders = ["Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"];
    public static readonly string[] ExposedHeaders = ["Location", "ETag", "Link", "Retry-After", "X-Request-ID", "X-Total-Count"];

    public static IServiceCollection AddAapCors(this IServiceCollection services)
    {
        services.AddOptions<CorsOptions>().BindConfiguration(CorsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CorsOptions>, CorsOptionsValidator>();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CorsOptions>>((cors, aap) => cors.AddDefaultPolicy(policy =>
            {
                policy.WithOrigins(aap.Value.AllowedOrigins)
                    .WithMethods(AllowedMethods)
                    .WithHeaders(AllowedHeaders)
                    .WithExposedHeaders(ExposedHeaders)
                    .SetPreflightMaxAge(TimeSpan.FromSeconds(aap.Value.PreflightMaxAgeSeconds));
                if (aap.Value.AllowCredentials)
                {
                    policy.AllowCredentials();
                }
            }));
        return services;
    }
}
