using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Platform.Http;

/// <summary>
/// The one place where request preconditions are compared with a resource's entity tag (RFC 9110 section 13.1):
/// <c>If-Match</c> guards writes with the strong comparison, <c>If-None-Match</c> answers reads with 304 using the
/// weak one. A header that cannot be parsed matches nothing.
/// </summary>
internal static class ETags
{
    /// <summary>
    /// True when a write may go ahead under <paramref name="ifMatch"/>: no header, <c>*</c>, or a tag strongly equal
    /// to <paramref name="current"/>. False means 412 Precondition Failed.
    /// </summary>
    public static bool IfMatchAllows(StringValues ifMatch, string current) =>
        StringValues.IsNullOrEmpty(ifMatch) || string.IsNullOrWhiteSpace(ifMatch.ToString()) || AnyMatches(ifMatch, current, strong: true);

    /// <summary>True when <paramref name="ifNoneMatch"/> names <paramref name="current"/> (weak comparison) or is <c>*</c>: the client has this version (304).</summary>
    public static bool IfNoneMatchHits(StringValues ifNoneMatch, string current) =>
        !StringValues.IsNullOrEmpty(ifNoneMatch) && AnyMatches(ifNoneMatch, current, strong: false);

    private static bool AnyMatches(StringValues header, string current, bool strong)
    {
        var tag = EntityTagHeaderValue.Parse(current);
        return EntityTagHeaderValue.TryParseList(header, out var tags) &&
               tags.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(tag, useStrongComparison: strong));
    }
}
