using System.Net.Http.Headers;
using System.Text;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Request bodies written as JSON text, for tests that need the exact bytes (odd fields, wrong types, seed walkthroughs).</summary>
public static class JsonBody
{
    /// <summary><paramref name="json"/> as <c>application/json; charset=utf-8</c>.</summary>
    public static StringContent Of(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary><paramref name="json"/> as plain <c>application/json</c>, no charset, as the seed documents' clients send it.</summary>
    public static StringContent Bare(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    /// <summary><paramref name="json"/> as a JSON merge patch (RFC 7396), <c>application/merge-patch+json; charset=utf-8</c>.</summary>
    public static StringContent MergePatch(string json) => new(json, Encoding.UTF8, "application/merge-patch+json");
}
