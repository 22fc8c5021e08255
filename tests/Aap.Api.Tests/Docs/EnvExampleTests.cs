using System.Collections;
using System.Reflection;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Docs;

/// <summary>
/// <c>.env.example</c> documents every key: each setting of every options section the service binds (a class with a
/// <c>SectionName</c>) appears there as its environment variable, set or as a commented example.
/// </summary>
public sealed class EnvExampleTests
{
    /// <summary>Properties bound from elsewhere, with where they are documented instead.</summary>
    private static readonly HashSet<string> BoundElsewhere =
    [
        "Database__ConnectionString", // ConnectionStrings__Default
    ];

    [Fact]
    public void Every_setting_of_every_options_section_is_in_the_env_example()
    {
        var example = File.ReadAllText(Repository.PathOf(".env.example"));
        var sections = typeof(Program).Assembly.GetTypes()
            .Select(type => (Type: type, Section: type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(found => found.Section is { IsLiteral: true } && found.Section.FieldType == typeof(string))
            .Select(found => (found.Type, Prefix: ((string)found.Section!.GetRawConstantValue()!).Replace(":", "__", StringComparison.Ordinal)))
            .ToList();
        sections.Count.ShouldBeGreaterThan(15);

        var missing = sections
            .SelectMany(section => Keys(section.Type, section.Prefix))
            .Where(key => !BoundElsewhere.Contains(key.Name))
            .Where(key => !example.Contains(key.Name + (key.IsCollection ? "__" : "="), StringComparison.Ordinal))
            .Select(key => key.Name + (key.IsCollection ? "__..." : ""))
            .Distinct()
            .ToList();

        missing.ShouldBeEmpty(".env.example lacks: " + string.Join(", ", missing));
    }

    /// <summary>The environment variables of a section's settings: its writable properties, nested sections walked.</summary>
    private static IEnumerable<(string Name, bool IsCollection)> Keys(Type options, string prefix)
    {
        foreach (var property in options.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } && !IsCollection(property.PropertyType))
            {
                continue; // computed, or read-only: the binder never sets it
            }

            var name = prefix + "__" + property.Name;
            if (IsCollection(property.PropertyType))
            {
                yield return (name, true);
            }
            else if (property.PropertyType.Assembly == options.Assembly && property.PropertyType.IsClass)
            {
                foreach (var nested in Keys(property.PropertyType, name))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return (name, false);
            }
        }
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);
}
