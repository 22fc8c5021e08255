namespace Aap.Api.Platform;

/// <summary>
/// Marks a type of a feature that other features and the seed dialects may use: its public surface (services and
/// the contracts they take and give). Everything else in a feature (entities, endpoint handlers, configurations,
/// helpers) is its own; the architecture tests fail when code outside the feature names it.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface | AttributeTargets.Enum, Inherited = false)]
internal sealed class FeatureSurfaceAttribute : Attribute;
