using System.ComponentModel.DataAnnotations;
using Aap.Api.Platform.Settings;
using Microsoft.Extensions.Options;
using Aap.Api.Platform.Security;

namespace Aap.Api.Features.Identity;

/// <summary>Token signing, cookies and abuse limits. Section <c>Auth</c>.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "Auth";

    [Required]
    public string Issuer { get; set; } = "aap";

    [Required]
    public string Audience { get; set; } = "aap-api";

    /// <summary>Base64 of at least 32 random bytes. Required outside Development, where a key is generated into the data folder.</summary>
    public string? SigningKey { get; set; }

    public string SigningKeyId { get; set; } = "primary";

    /// <summary>Keys that still validate tokens they signed, so that a key can be rotated without logging everyone out.</summary>
    public List<PreviousSigningKey> PreviousSigningKeys { get; set; } = [];

    /// <summary>Tolerance on <c>exp</c> and <c>nbf</c>; at most 5 s, so a 30 s token lives 30 s.</summary>
    [Range(0, 5)]
    public int ClockSkewSeconds { get; set; } = 5;

    /// <summary>Send cookies with <c>Secure</c>; defaults to on everywhere but Development.</summary>
    public bool? SecureCookies { get; set; }

    [RegularExpression("^(Strict|Lax|None)$")]
    public string CookieSameSite { get; set; } = "Strict";

    /// <summary>Password attempts per account and client address in <see cref="LockoutMinutes"/>; more get 429 unchecked.</summary>
    [Range(1, 1000)]
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>The window of <see cref="MaxFailedAttempts"/>, in minutes.</summary>
    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 5;

    /// <summary>Password attempts per account per hour over all client addresses: the ceiling for distributed guessing.</summary>
    [Range(1, 100_000)]
    public int MaxAccountAttemptsPerHour { get; set; } = 100;

    /// <summary>
    /// Requests per client IP and window on login, register and refresh; also the password checks per client IP
    /// (Basic credentials included) in that window.
    /// </summary>
    [Range(1, 1_000_000)]
    public int RateLimitPermits { get; set; } = 20;

    [Range(1, 3600)]
    public int RateLimitWindowSeconds { get; set; } = 60;

    /// <summary>
    /// For the pages' transparent renewal only: a refresh token consumed at most this many seconds ago, whose session
    /// is live, still yields a new access token (and no new refresh token) instead of counting as a replay, because a
    /// page and its parallel requests (two tabs, htmx) present the same cookie at once. 0 turns the grace off. The API
    /// refresh routes never apply it.
    /// </summary>
    [Range(0, 60)]
    public int BrowserRenewReuseSeconds { get; set; } = 10;

    /// <summary>Refuse a password equal to the user name or e-mail.</summary>
    public bool RejectPasswordEqualToIdentity { get; set; } = true;

    internal sealed class PreviousSigningKey
    {
        public string Id { get; set; } = "";

        public string Key { get; set; } = "";
    }
}

/// <summary>The first admin, created on start when no user has this name. Section <c>Bootstrap:Admin</c>.</summary>
internal sealed class BootstrapAdminOptions
{
    public const string SectionName = "Bootstrap:Admin";

    /// <summary>
    /// Whether start-up creates <see cref="DevelopmentAdminName"/> with a random password, printed once, when no admin
    /// exists. Defaults to true in Development only.
    /// </summary>
    public const string DevelopmentAdminKey = "Auth:DevelopmentAdmin";

    public const string DevelopmentAdminName = "admin";

    public string? UserName { get; set; }

    public string? Email { get; set; }

    public string? Password { get; set; }
}

internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            if (!environment.IsDevelopment())
            {
                failures.Add("Auth:SigningKey is required outside Development: base64 of at least 32 random bytes (for example `openssl rand -base64 48`).");
            }
        }
        else if (!KeyMaterial.TryDecode(options.SigningKey, out _))
        {
            failures.Add("Auth:SigningKey must be base64 of at least 32 bytes.");
        }

        foreach (var previous in options.PreviousSigningKeys)
        {
            if (string.IsNullOrWhiteSpace(previous.Id) || !KeyMaterial.TryDecode(previous.Key, out _))
            {
                failures.Add("Auth:PreviousSigningKeys entries need an Id and a Key of base64 with at least 32 bytes.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The token lifetimes and password rules admins change at run time.</summary>
internal static class AuthSettings
{
    public static readonly RuntimeSettingDefinition AccessTokenLifetimeSeconds =
        new("auth.access_token_lifetime_seconds", 30, 5, 86_400, "Lifetime of an access token, in seconds.");

    public static readonly RuntimeSettingDefinition RefreshTokenLifetimeDays =
        new("auth.refresh_token_lifetime_days", 30, 1, 365, "Lifetime of a refresh token, in days; each refresh starts it again.");

    public static readonly RuntimeSettingDefinition RefreshFamilyMaxDays =
        new("auth.refresh_family_max_days", 90, 1, 3650, "Absolute lifetime of a login's chain of refresh tokens, in days; refreshing never extends it.");

    /// <summary>
    /// 1 refuses common and breached passwords (and small variations of them) wherever a password is set. 0 is for
    /// replaying the seeds' walkthroughs verbatim, whose example passwords (<c>password</c>, <c>securepassword</c>)
    /// are exactly what this refuses.
    /// </summary>
    public static readonly RuntimeSettingDefinition RefuseCommonPasswords =
        new("auth.refuse_common_passwords", 1, 0, 1, "1 refuses common and breached passwords, and small variations of them, on registration, password change and admin creation; 0 accepts them (only to replay the seeds' example walkthroughs).");
}
