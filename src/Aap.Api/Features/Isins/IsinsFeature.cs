using Aap.Api.Features.Isins.Jobs;
using Aap.Api.Platform.Jobs;

namespace Aap.Api.Features.Isins;

/// <summary>The ISIN list: its daily download job (<c>isin-download</c>), its service and the routes of <c>/api/v1/isins</c>.</summary>
internal static class IsinsFeature
{
    public static WebApplicationBuilder AddIsinsFeature(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<IsinOptions>().BindConfiguration(IsinOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<IsinService>();
        services.AddSingleton<IsinCounts>();
        services.AddScoped<IsinLoader>();
        IsinDownloader.AddResilience(services);
        var settings = builder.Configuration.GetSection(IsinOptions.SectionName).Get<IsinOptions>() ?? new IsinOptions();
        if (settings.Enabled)
        {
            builder.AddRecurringJob<IsinDownloadJob>(IsinDownloadJob.Name,
                "Daily 04:30: download Jobs:Isin:SourceUrl (GLEIF's ISIN-to-LEI file) and swap in the ISIN list when it changed.", "0 30 4 * * ?");
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapIsinsFeature(this IEndpointRouteBuilder endpoints) => IsinEndpoints.Map(endpoints);
}
