using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Declares a class of this assembly that describes tables (one or more <see cref="IEntityTypeConfiguration{TEntity}"/>)
/// for <see cref="AppDbContext"/> to apply: <c>[assembly: EntityConfiguration(typeof(TodoTaskConfiguration))]</c> beside the
/// class. A declaration rather than a search of the assembly, because the search loads every type of the service
/// (and, through their base types and interfaces, the database drivers and SDKs a configuration does not use) to find
/// sixteen. <c>EntityConfigurationTests</c> fails for a configuration class that is not declared.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class EntityConfigurationAttribute(Type configuration) : Attribute
{
    private static readonly MethodInfo ApplyOne = typeof(ModelBuilder).GetMethods()
        .Single(method => method is { Name: nameof(ModelBuilder.ApplyConfiguration), IsGenericMethodDefinition: true }
                          && method.GetParameters() is [{ ParameterType: { IsGenericType: true } parameter }]
                          && parameter.GetGenericTypeDefinition() == typeof(IEntityTypeConfiguration<>));

    public Type Configuration { get; } = configuration;

    /// <summary>Applies every configuration declared in <paramref name="assembly"/>, each entity type it describes.</summary>
    public static void ApplyAll(ModelBuilder modelBuilder, Assembly assembly)
    {
        foreach (var declared in assembly.GetCustomAttributes<EntityConfigurationAttribute>())
        {
            var instance = Activator.CreateInstance(declared.Configuration)!;
            foreach (var entity in EntityTypes(declared.Configuration))
            {
                ApplyOne.MakeGenericMethod(entity).Invoke(modelBuilder, [instance]);
            }
        }
    }

    /// <summary>The entity types a configuration class describes (one per <see cref="IEntityTypeConfiguration{TEntity}"/>).</summary>
    public static IEnumerable<Type> EntityTypes(Type configuration) => configuration.GetInterfaces()
        .Where(contract => contract.IsGenericType && contract.GetGenericTypeDefinition() == typeof(IEntityTypeConfiguration<>))
        .Select(contract => contract.GenericTypeArguments[0]);
}
