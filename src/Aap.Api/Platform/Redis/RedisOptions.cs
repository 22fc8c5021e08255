using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.Redis;

/// <summary>
/// Section <c>Redis</c>: optional shared state for several nodes. Unset, every node keeps its limits and caches in
/// memory (docs/adr/0014-shared-state-and-invalidation.md says what differs).
/// </summary>
internal sealed class RedisOptions : IValidatableObject
{
    public const string SectionName = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis:6379,password=...,ssl=true</c>; empty: no Redis.</summary>
    public string? Configuration { get; set; }

    /// <summary>Put before every key and channel, so that several deployments can share one server.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "Redis:KeyPrefix may hold letters, digits and _ . : - (at most 64).")]
    public string KeyPrefix { get; set; } = "aap:";

    /// <summary>How long a command may take before the node gives up on it and falls back to its own memory.</summary>
    [Range(50, 30_000, ErrorMessage = "Redis:TimeoutMilliseconds must be between 50 and 30000.")]
    public int TimeoutMilliseconds { get; set; } = 500;

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && ConfigurationError(Configuration!) is { } error)
        {
            yield return new ValidationResult(
                $"Redis:Configuration is not a Redis configuration string (host:port[,option=value...]){error}.", [nameof(Configuration)]);
        }
    }

    /// <summary>
    /// Null when StackExchange.Redis reads <paramref name="configuration"/> with at least one endpoint, else what to add to
    /// the message. A method of its own, so that validating options without Redis never compiles code that names the
    /// client's types, and so never loads it (<c>LoadedAssembliesTests</c>).
    /// </summary>
    private static string? ConfigurationError(string configuration)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(configuration).EndPoints.Count == 0 ? "" : null;
        }
        catch (ArgumentException e)
        {
            return $": {e.Message}";
        }
    }
}
