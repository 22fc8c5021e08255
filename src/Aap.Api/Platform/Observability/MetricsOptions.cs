using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.Observability;

/// <summary>The Prometheus scrape endpoint. Section <c>Metrics</c>; see docs/adr/0013-metrics-on-the-main-port.md.</summary>
internal sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>Serve <c>GET /metrics</c> at all (default on).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When set, a scrape must send <c>Authorization: Bearer &lt;token&gt;</c>. When empty, only callers on the
    /// loopback interface (a Prometheus or an agent on the same host) are answered.
    /// </summary>
    [MinLength(16, ErrorMessage = "Metrics:Token must be at least 16 characters (or empty).")]
    public string? Token { get; set; }

    /// <summary>
    /// Meters exported besides the default set (docs/observability.md), by name, for example
    /// <c>Microsoft.AspNetCore.Routing</c> or <c>Microsoft.AspNetCore.Authorization</c> (exact names).
    /// </summary>
    public string[] ExtraMeters { get; set; } = [];
}

/// <summary>Where traces and metrics are pushed besides the scrape endpoint. Section <c>OpenTelemetry</c>.</summary>
internal sealed class OpenTelemetryOptions
{
    public const string SectionName = "OpenTelemetry";

    /// <summary>The OTLP collector (for example <c>http://collector:4317</c>); empty: nothing is pushed.</summary>
    [Url(ErrorMessage = "OpenTelemetry:Endpoint must be an absolute URL.")]
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> (default, port 4317) or <c>http/protobuf</c> (port 4318).</summary>
    [RegularExpression("^(grpc|http/protobuf)$", ErrorMessage = "OpenTelemetry:Protocol must be 'grpc' or 'http/protobuf'.")]
    public string Protocol { get; set; } = "grpc";

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    [Required]
    public string ServiceName { get; set; } = "aap";
}
