using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Marks as required only what a client must send. The generator lists every constructor parameter of a record as
/// required, nullable or not, so <c>LoginRequest(string? Login, string? Email, string? Username, string? Password)</c>
/// showed all of them required, although any one identifier will do; and it lists a computed get-only property
/// (<c>Identifier</c>) as a field to send. Here a member stays required when the type says so: a <c>required</c>
/// member or <c>[JsonRequired]</c>, <c>[Required]</c>, or a constructor parameter that is not nullable and has no
/// default (or whose declared type is a type parameter, as in <c>Envelope&lt;T&gt;</c>). A member that can only be read (no setter, no constructor parameter) is marked <c>readOnly</c>: it is
/// in responses, never in a request.
/// </summary>
internal static class RequiredMembers
{
    public static Task Apply(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 } properties)
        {
            return Task.CompletedTask;
        }

        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if (IsReadOnly(property) && properties.TryGetValue(property.Name, out var member) && member is OpenApiSchema readOnly)
            {
                readOnly.ReadOnly = true;
            }

            if (schema.Required?.Contains(property.Name) == true && !IsRequired(property))
            {
                schema.Required.Remove(property.Name);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsReadOnly(JsonPropertyInfo property) => property.Set is null && property.AssociatedParameter is null;

    private static bool IsRequired(JsonPropertyInfo property) =>
        property.IsRequired ||
        property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true ||
        property.AssociatedParameter is { } parameter &&
        (parameter.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true ||
         parameter is { IsNullable: false, HasDefaultValue: false } ||
         IsGenericParameter(parameter));

    /// <summary>
    /// <c>Envelope&lt;T&gt;(T Data)</c>: an unconstrained <c>T</c> counts as nullable, yet <c>data</c> is always sent; the
    /// declaration decides, not the closed type.
    /// </summary>
    private static bool IsGenericParameter(JsonParameterInfo parameter)
    {
        if (parameter.AttributeProvider is not ParameterInfo { Member: ConstructorInfo { DeclaringType: { IsConstructedGenericType: true } closed } constructor } info)
        {
            return false;
        }

        var declared = closed.GetGenericTypeDefinition().GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .FirstOrDefault(c => c.MetadataToken == constructor.MetadataToken);
        return declared?.GetParameters()[info.Position].ParameterType.IsGenericParameter == true;
    }
}
