using System.Reflection;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Architecture;

/// <summary>
/// The context applies the entity configurations the assembly declares (<see cref="EntityConfigurationAttribute"/>)
/// instead of searching every type for them: a configuration class left undeclared would leave its tables out of the
/// model, so every one must be declared, once.
/// </summary>
public sealed class EntityConfigurationTests
{
    private static readonly Assembly Service = typeof(AppDbContext).Assembly;

    [Fact]
    public void Every_entity_configuration_class_of_the_service_is_declared_once()
    {
        var classes = Service.GetTypes()
            .Where(type => type is { IsClass: true, IsAbstract: false } && EntityConfigurationAttribute.EntityTypes(type).Any())
            .Select(type => type.FullName!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var declared = Service.GetCustomAttributes<EntityConfigurationAttribute>()
            .Select(attribute => attribute.Configuration.FullName!)
            .Order(StringComparer.Ordinal)
            .ToArray();

        classes.Length.ShouldBeGreaterThan(10, "the search found the configuration classes");
        declared.ShouldBe(classes, "declare each with [assembly: EntityConfiguration(typeof(...))] beside it");
    }

    [Fact]
    public void The_model_holds_every_entity_type_the_declared_configurations_describe()
    {
        using var context = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseSqlite("Data Source=:memory:").Options);
        var described = Service.GetCustomAttributes<EntityConfigurationAttribute>()
            .SelectMany(attribute => EntityConfigurationAttribute.EntityTypes(attribute.Configuration))
            .ToArray();

        described.Length.ShouldBeGreaterThan(20);
        foreach (var entity in described)
        {
            context.Model.FindEntityType(entity).ShouldNotBeNull($"{entity.Name} is in the model");
        }
    }
}
