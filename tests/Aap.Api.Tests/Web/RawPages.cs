using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Web;

/// <summary>Reading pages over plain HTTP, as a browser would send and see them, without one.</summary>
internal static partial class RawPages
{
    /// <summary>
    /// A client that neither keeps cookies nor follows redirects, so that each request carries exactly the cookies the
    /// test gives it and each answer is seen as sent.
    /// </summary>
    public static HttpClient Client(AapFactory factory) =>
        new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = factory.ServerAddress };

    /// <summary>The cookies a response sets (deleted ones excluded), by name.</summary>
    public static Dictionary<string, string> Cookies(HttpResponseMessage response) =>
        (response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            .Select(c => c.Split(';')[0].Split('=', 2))
            .Where(p => p[1].Length > 0)
            .GroupBy(p => p[0])
            .ToDictionary(g => g.Key, g => g.Last()[1]);

    /// <summary>The request token of a page's form and the antiforgery cookie the page set, as a later post sends them.</summary>
    public static async Task<(string Token, string Cookie)> AntiforgeryAsync(HttpResponseMessage page, CancellationToken cancellationToken)
    {
        var token = HiddenToken().Match(await page.Content.ReadAsStringAsync(cancellationToken)).Groups[1].Value;
        token.ShouldNotBeEmpty();
        var cookie = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aap_antiforgery=", StringComparison.Ordinal)).Split(';')[0];
        return (token, cookie);
    }

    /// <summary>The value of a form's hidden antiforgery field.</summary>
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    public static partial Regex HiddenToken();
}
