using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Platform.Http;

/// <summary>HTTP limits. Section <c>Http</c>.</summary>
internal sealed class HttpOptions
{
    public const string SectionName = "Http";

    /// <summary>Largest request body accepted, in bytes (default 10 MB); larger bodies get 413.</summary>
    [Range(1024, 10L * 1024 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Honour <c>X-Forwarded-For</c>/<c>-Proto</c> from a reverse proxy (only behind one you trust).</summary>
    public bool TrustForwardedHeaders { get; set; }
}
