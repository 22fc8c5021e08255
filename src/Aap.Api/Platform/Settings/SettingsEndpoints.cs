using System.Security.Claims;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Platform.Settings;

public sealed record UpdateSettingRequest(int? Value);

internal sealed record SettingResponse(string Key, int Value, int Default, int Min, int Max, string Description, DateTime? UpdatedAt, long? UpdatedBy);

/// <summary>The admin API of the runtime settings: <c>/api/v1/admin/settings</c>.</summary>
internal static class SettingsEndpoints
{
    public static IServiceCollection AddRuntimeSettings(this IServiceCollection services) =>
        services.AddSingleton<RuntimeSettings>();

    public static IEndpointRouteBuilder MapSettingsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var settings = endpoints.MapGroup("/api/v1/admin/settings")
            .WithTags("Admin: settings")
            .RequireAuthorization(Policies.Admin)
            .ProducesProblem(401)
            .ProducesProblem(403);
        settings.MapGet("", ListSettings).WithName("ListSettings").WithSummary("Every runtime setting with its value, default and bounds.");
        settings.MapPut("/{key}", UpdateSetting).WithName("UpdateSetting")
            .WithSummary("Change a setting; it applies to every node within seconds and is audited.")
            .ProducesProblem(400).ProducesProblem(404);
        return endpoints;
    }

    internal static async Task<Ok<Envelope<IReadOnlyList<SettingResponse>>>> ListSettings(RuntimeSettings settings, CancellationToken cancellationToken)
    {
        var all = await settings.ListAsync(cancellationToken);
        return TypedResults.Ok(new Envelope<IReadOnlyList<SettingResponse>>(all.Select(s => ToResponse(s.Definition, s.Value, s.Stored)).ToList()));
    }

    internal static async Task<Results<Ok<Envelope<SettingResponse>>, ProblemHttpResult>> UpdateSetting(
        string key, UpdateSettingRequest request, RuntimeSettings settings, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        if (!settings.TryGetDefinition(key, out var definition))
        {
            return Problems.NotFound($"Setting '{key}'");
        }

        if (request.Value is not { } value || !definition.Accepts(value))
        {
            return Problems.Validation("value", $"'{key}' takes a whole number from {definition.Min} to {definition.Max}.");
        }

        await settings.SetAsync(definition, value, caller.UserId(), cancellationToken);
        var current = (await settings.ListAsync(cancellationToken)).Single(s => s.Definition.Key == key);
        return TypedResults.Ok(new Envelope<SettingResponse>(ToResponse(current.Definition, current.Value, current.Stored)));
    }

    private static SettingResponse ToResponse(RuntimeSettingDefinition definition, int value, RuntimeSetting? stored) =>
        new(definition.Key, value, definition.Default, definition.Min, definition.Max, definition.Description, stored?.UpdatedAt, stored?.UpdatedBy);
}
