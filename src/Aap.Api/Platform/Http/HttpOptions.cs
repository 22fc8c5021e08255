using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Aap.Api.Platform.Http;

/// <summary>HTTP limits and the reverse proxies trusted to report the client. Section <c>Http</c>.</summary>
internal sealed class HttpOptions : IValidatableObject
{
    public const string SectionName = "Http";

    /// <summary>Largest request body accepted, in bytes (default 10 MB); larger bodies get 413.</summary>
    [Range(1024, 10L * 1024 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Honour <c>X-Forwarded-For</c>/<c>-Proto</c>, but only from the peers listed in <see cref="KnownProxies"/> or
    /// <see cref="KnownNetworks"/>: a header from anyone else is ignored, so a client cannot choose its own address.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>IP addresses of the reverse proxies whose forwarded headers are honoured (e.g. <c>10.0.0.5</c>).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks, in CIDR notation, of the reverse proxies whose forwarded headers are honoured (e.g. <c>10.0.0.0/24</c>).</summary>
    public string[] KnownNetworks { get; set; } = [];

    public IEnumerable<IPAddress> ProxyAddresses() => KnownProxies.Select(p => IPAddress.Parse(p.Trim()));

    public IEnumerable<IPNetwork> ProxyNetworks() => KnownNetworks.Select(n => IPNetwork.Parse(n.Trim()));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p?.Trim(), out _)))
        {
            yield return new ValidationResult($"Http:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        }

        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n?.Trim(), out _)))
        {
            yield return new ValidationResult($"Http:KnownNetworks: '{network}' is not a network in CIDR notation (such as 10.0.0.0/24).", [nameof(KnownNetworks)]);
        }

        if (TrustForwardedHeaders && KnownProxies.Length == 0 && KnownNetworks.Length == 0)
        {
            yield return new ValidationResult(
                "Http:TrustForwardedHeaders is true but neither Http:KnownProxies nor Http:KnownNetworks names a proxy: " +
                "list the reverse proxies' addresses, or any client could set its own address with X-Forwarded-For.",
                [nameof(KnownProxies), nameof(KnownNetworks)]);
        }
    }
}
