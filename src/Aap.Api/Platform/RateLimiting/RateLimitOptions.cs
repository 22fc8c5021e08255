using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.RateLimiting;

/// <summary>One policy: so many requests per fixed window, the windows aligned on the clock (they reset together).</summary>
internal sealed class RateLimitPolicyOptions
{
    [Range(1, 10_000_000)]
    public int PermitLimit { get; set; }

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; }
}

/// <summary>
/// The limits every route is under. Section <c>RateLimits</c>: <c>Anonymous</c> (per client address), <c>User</c>
/// (per signed-in user), <c>Admin</c> (per admin). <c>/health/*</c> and <c>/metrics</c> are exempt. The sign-in
/// routes are also under their own stricter limits (<c>Auth:RateLimit*</c>, ADR 8).
/// </summary>
internal sealed class RateLimitOptions : IValidatableObject
{
    public const string SectionName = "RateLimits";

    public bool Enabled { get; set; } = true;

    [Required]
    public RateLimitPolicyOptions Anonymous { get; set; } = new() { PermitLimit = 300, WindowSeconds = 60 };

    [Required]
    public RateLimitPolicyOptions User { get; set; } = new() { PermitLimit = 100, WindowSeconds = 60 };

    [Required]
    public RateLimitPolicyOptions Admin { get; set; } = new() { PermitLimit = 1000, WindowSeconds = 60 };

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
        }
    }
}
