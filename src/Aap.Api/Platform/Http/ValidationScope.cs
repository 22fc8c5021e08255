using System.ComponentModel.DataAnnotations;
using System.IO.Pipelines;
using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Metadata;

namespace Aap.Api.Platform.Http;

/// <summary>
/// Keeps ASP.NET Core's validation filter to the endpoints that have something to validate.
/// </summary>
/// <remarks>
/// The framework's parameter resolver counts every class it does not know as an object to validate, the request's
/// <see cref="HttpContext"/> included. So every handler that takes the request's context (<c>GET /api/v1/me</c> among
/// them) ran the filter: per request an argument list, a <see cref="ValidationContext"/> with a dictionary of its own and
/// the validator's context, to find nothing. An endpoint whose parameters are all ones the validator cannot fault is
/// given the metadata of <c>DisableValidation()</c>; a body, an <c>[AsParameters]</c> query or a value carrying a
/// validation attribute keeps the filter, and the filter then checks every parameter as before.
/// </remarks>
internal static class ValidationScope
{
    private sealed class NothingToValidate : IDisableValidationMetadata
    {
        public static readonly NothingToValidate Instance = new();
    }

    /// <summary>Applies to every route handler mapped on <paramref name="builder"/> (a group, or one endpoint).</summary>
    public static TBuilder ValidateOnlyWhatCanFail<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            // The handler's method is in the metadata before any convention runs; other endpoints (health checks,
            // pages) have none and are left to the framework.
            if (endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault() is { } handler
                && !NeedsValidation(handler, endpoint.ApplicationServices.GetService<IServiceProviderIsService>()))
            {
                endpoint.Metadata.Add(NothingToValidate.Instance);
            }
        });
        return builder;
    }

    /// <summary>Whether ASP.NET Core's validation could report anything about one of the handler's parameters.</summary>
    private static bool NeedsValidation(MethodInfo handler, IServiceProviderIsService? services) =>
        handler.GetParameters().Any(parameter => CanFail(parameter, services));

    private static bool CanFail(ParameterInfo parameter, IServiceProviderIsService? services)
    {
        if (parameter.GetCustomAttributes().OfType<IFromServiceMetadata>().Any() || services?.IsService(parameter.ParameterType) == true)
        {
            return false;
        }

        return parameter.GetCustomAttributes<ValidationAttribute>().Any() || IsObjectToValidate(parameter.ParameterType);
    }

    /// <summary>The framework's own rule for a parameter's type, less the request's context and its two halves.</summary>
    private static bool IsObjectToValidate(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return IsObjectToValidate(underlying);
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime)
            || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly) || type == typeof(TimeSpan)
            || type == typeof(Guid) || type == typeof(ClaimsPrincipal) || type == typeof(CancellationToken) || type == typeof(Stream)
            || type == typeof(PipeReader) || type == typeof(HttpContext) || type == typeof(HttpRequest) || type == typeof(HttpResponse))
        {
            return false;
        }

        return type.IsClass || type.IsValueType;
    }
}
