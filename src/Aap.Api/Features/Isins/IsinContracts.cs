using Aap.Api.Platform;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Features.Isins;

/// <summary>The filters of <c>GET /api/v1/isins</c>: <c>q</c> (the start of an ISIN, or a whole LEI) and <c>country</c> (two letters).</summary>
/// <remarks>Public because the validation source generator only looks at public types.</remarks>
public sealed record IsinListQuery(
    [property: FromQuery(Name = "q")] string? Q,
    [property: FromQuery(Name = "country")] string? Country,
    [property: FromQuery(Name = "include_removed")] bool? IncludeRemoved)
{
    internal IsinFilter Filter => new(Q, Country, IncludeRemoved ?? false);
}

/// <summary>What a listing of ISINs asks for.</summary>
[FeatureSurface]
internal sealed record IsinFilter(string? Q, string? Country, bool IncludeRemoved = false);

/// <summary>An ISIN as the API shows it.</summary>
[FeatureSurface]
internal sealed record IsinResponse(string Isin, string? Lei, string Country, DateTime FirstSeen, DateTime LastSeen, DateTime? RemovedAt)
{
    internal static IsinResponse From(Isin isin) => new(isin.Code, isin.Lei, isin.Country, isin.FirstSeen, isin.LastSeen, isin.RemovedAt);
}

/// <summary>What the last download of the configured source did (the admins' view).</summary>
[FeatureSurface]
internal sealed record IsinDownloadResponse(
    string SourceUrl, string? Etag, string? LastModified, string? Sha256, DateTime? CheckedAt, DateTime? LoadedAt, string? Outcome,
    long Rows, long InvalidRows, string? Error, long Listed, long Removed);

internal static class IsinProblemCodes
{
    /// <summary>The path's ISIN is not one: wrong length, characters or check digit (the detail says which).</summary>
    public const string InvalidIsin = "invalid_isin";
}
