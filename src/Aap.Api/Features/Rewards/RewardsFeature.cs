using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Persistence.Seeding;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// Rewards: what users do with the catalog. Completions with screenshot proof and their review, the points ledger
/// and balances, transfers, the leaderboard and per-app statistics. Reads apps through <see cref="AppsCatalog"/>,
/// stores proof through <see cref="FileService"/>, and answers the catalog's <see cref="ICompletedApps"/> and the
/// files' <see cref="IFileReferences"/> (a proof cannot be deleted while its completion exists).
/// </summary>
internal static class RewardsFeature
{
    public static WebApplicationBuilder AddRewardsFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<RewardsService>()
            .AddSingleton<RewardsMetrics>()
            .AddSingleton<Leaderboards>()
            .AddSingleton<CompletionQueries>()
            .AddScoped<ICompletedApps, CompletedApps>()
            .AddScoped<IFileReferences, CompletionProofs>()
            .AddSingleton(RewardsSettings.RequireReview)
            .AddScoped<ISeedContributor, RewardsSeed>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRewardsFeature(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapCompletionEndpoints().MapPointsEndpoints();
}
