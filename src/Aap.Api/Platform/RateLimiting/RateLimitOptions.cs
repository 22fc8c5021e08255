using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>
/// One caller policy: so many requests per fixed window, the windows aligned on the clock (they reset together), and
/// beside it an hourly window (<see cref="PerHour"/>, 0 = off). Both are counted; the tighter one decides.
/// </summary>
internal sealed class RateLimitPolicyOptions
{
    [Range(1, 10_000_000)]
    public int PermitLimit { get; set; }

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; }

    /// <summary>Requests per clock hour, counted beside <see cref="PermitLimit"/> (policy <c>NAME-hour</c>); 0 turns it off.</summary>
    [Range(0, 100_000_000)]
    public int PerHour { get; set; }
}

/// <summary>
/// The byte budget of the upload routes (policy <c>upload-bytes</c>): so many bytes of request bodies per caller (user,
/// or client address when anonymous) per fixed window, charged from <c>Content-Length</c> before the body is read.
/// </summary>
internal sealed class UploadBytesOptions
{
    /// <summary>Bytes per window; 0 turns the budget off.</summary>
    [Range(0, long.MaxValue)]
    public long Limit { get; set; } = 200L * 1024 * 1024;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 3600;
}

/// <summary>
/// The limits every route is under. Section <c>RateLimits</c>: <c>Anonymous</c> (per client address), <c>User</c>
/// (per signed-in user), <c>Admin</c> (per admin), each per window and per hour; <c>UploadBytes</c> on the upload
/// routes. <c>/health/*</c> and <c>/metrics</c> are exempt. The sign-in routes are also under their own stricter
/// limits (<c>Auth:RateLimit*</c>, ADR 8). With <c>Redis:Configuration</c> set, every node counts in Redis.
/// </summary>
internal sealed class RateLimitOptions : IValidatableObject
{
    public const string SectionName = "RateLimits";

    public bool Enabled { get; set; } = true;

    [Required]
    public RateLimitPolicyOptions Anonymous { get; set; } = new() { PermitLimit = 300, WindowSeconds = 60, PerHour = 3000 };

    [Required]
    public RateLimitPolicyOptions User { get; set; } = new() { PermitLimit = 100, WindowSeconds = 60, PerHour = 5000 };

    [Required]
    public RateLimitPolicyOptions Admin { get; set; } = new() { PermitLimit = 1000, WindowSeconds = 60, PerHour = 30000 };

    [Required]
    public UploadBytesOptions UploadBytes { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, policy) in new[] { (nameof(Anonymous), Anonymous), (nameof(User), User), (nameof(Admin), Admin) })
        {
            if (policy.PermitLimit is < 1 or > 10_000_000)
            {
                yield return new ValidationResult($"{SectionName}:{name}:PermitLimit must be between 1 and 10000000.", [name]);
            }

            if (policy.WindowSeconds is < 1 or > 86_400)
            {
                yield return new ValidationResult($"{SectionName}:{name}:WindowSeconds must be between 1 and 86400.", [name]);
            }

            if (policy.PerHour is < 0 or > 100_000_000)
            {
                yield return new ValidationResult($"{SectionName}:{name}:PerHour must be between 0 (off) and 100000000.", [name]);
            }
        }

        if (UploadBytes.Limit < 0)
        {
            yield return new ValidationResult($"{SectionName}:UploadBytes:Limit must be 0 (off) or more.", [nameof(UploadBytes)]);
        }

        if (UploadBytes.WindowSeconds is < 1 or > 86_400)
        {
            yield return new ValidationResult($"{SectionName}:UploadBytes:WindowSeconds must be between 1 and 86400.", [nameof(UploadBytes)]);
        }
    }
}
