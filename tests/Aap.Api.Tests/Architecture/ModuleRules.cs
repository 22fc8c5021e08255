using System.Text.RegularExpressions;
using Mono.Cecil;

namespace Aap.Api.Tests.Architecture;

/// <summary>
/// The module boundaries of issue 12 as checks over an assembly's IL. <paramref name="root"/> is the root namespace
/// (<c>Aap.Api</c> for the application; a sample namespace for the tests that show each rule catches what it should).
/// Each check returns one line per offence: the offending type, what it names and where, so that it can be fixed
/// from the message alone.
/// </summary>
public sealed partial class ModuleRules(TypeDependencies assembly, string root)
{
    public const string SurfaceAttribute = "Aap.Api.Platform.FeatureSurfaceAttribute";

    private string Platform => $"{root}.Platform";

    private string Features => $"{root}.Features";

    private string Dialects => $"{root}.Dialects";

    private string Cli => $"{root}.Cli";

    private string Web => $"{root}.Web";

    private string DbContext => $"{root}.Platform.Persistence.AppDbContext";

    /// <summary>a. Platform is infrastructure: it names no feature, no seed dialect, nothing of the command line or of the pages.</summary>
    public IReadOnlyList<string> PlatformNamesNoFeatureDialectOrCli() =>
        Offences(Platform, d => In(d.Target, Features) || In(d.Target, Dialects) || In(d.Target, Cli) || In(d.Target, Web));

    /// <summary>b. Features name no seed dialect, nothing of the command line and nothing of the pages.</summary>
    public IReadOnlyList<string> FeaturesNameNoDialectOrCli() =>
        Offences(Features, d => In(d.Target, Dialects) || In(d.Target, Cli) || In(d.Target, Web));

    /// <summary>c. A feature names another feature's types only where they are marked as that feature's surface.</summary>
    public IReadOnlyList<string> FeaturesNameOtherFeaturesOnlyThroughTheirSurface() =>
        Offences(Features, d => FeatureOf(d.Target) is { } target && target != FeatureOf(d.Source) && !IsSurface(d.Target),
            d => $"{FeatureOf(d.Target)}'s {d.Target.FullName} is not [FeatureSurface]");

    /// <summary>d. The seed dialects are adapters over feature surfaces: no other feature type, and never the EF context.</summary>
    public IReadOnlyList<string> DialectsNameOnlyFeatureSurfacesAndNeverTheDbContext() => ConsumerOffences(Dialects);

    /// <summary>g. The pages (<c>Web</c>, Razor code and the generated views alike) are a consumer like the dialects: feature surfaces only, never the EF context.</summary>
    public IReadOnlyList<string> WebNamesOnlyFeatureSurfacesAndNeverTheDbContext() => ConsumerOffences(Web);

    private List<string> ConsumerOffences(string consumer) =>
        Offences(consumer, d => d.Target.FullName == DbContext || (FeatureOf(d.Target) is not null && !IsSurface(d.Target)),
            d => d.Target.FullName == DbContext ? "the EF context" : $"{FeatureOf(d.Target)}'s {d.Target.FullName} is not [FeatureSurface]");

    /// <summary>e. An entity (a type an <c>IEntityTypeConfiguration&lt;T&gt;</c> configures) is never part of a surface.</summary>
    public IReadOnlyList<string> NoSurfaceTypeIsAnEntity()
    {
        var entities = assembly.Module.GetTypes()
            .SelectMany(configuration => configuration.Interfaces.Select(i => (configuration, i.InterfaceType)))
            .Where(c => c.InterfaceType is GenericInstanceType { ElementType.FullName: "Microsoft.EntityFrameworkCore.IEntityTypeConfiguration`1" })
            .Select(c => (c.configuration, entity: ((GenericInstanceType)c.InterfaceType).GenericArguments[0].Resolve()))
            .Where(c => c.entity is not null && c.entity.Module == assembly.Module);
        return entities
            .Where(c => (c.entity.FullName == root || c.entity.FullName.StartsWith(root + ".", StringComparison.Ordinal)) && IsSurface(c.entity))
            .Select(c => $"{c.entity.FullName} is [FeatureSurface] but is an EF entity (configured by {c.configuration.FullName}): expose a record instead")
            .Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>f. <c>Add&lt;Name&gt;Feature</c> and <c>Map&lt;Name&gt;Feature</c> live in <c>Features/&lt;Name&gt;/&lt;Name&gt;Feature.cs</c>.</summary>
    public IReadOnlyList<string> FeatureEntryPointsLiveInTheirFeatureClass()
    {
        var offences = new List<string>();
        foreach (var type in assembly.Module.GetTypes().Where(t => In(TypeDependencies.Outermost(t), root)))
        {
            foreach (var method in type.Methods)
            {
                if (EntryPoint().Match(method.Name) is not { Success: true } match)
                {
                    continue;
                }

                var name = match.Groups["name"].Value;
                var expected = $"{Features}.{name}.{name}Feature";
                var file = TypeDependencies.SourceFile(method)?.Replace('\\', '/');
                if (type.FullName != expected)
                {
                    offences.Add($"{method.Name} is declared in {type.FullName}{At(file)}; it belongs in {expected} (Features/{name}/{name}Feature.cs)");
                }
                else if (file is not null && !file.EndsWith($"/Features/{name}/{name}Feature.cs", StringComparison.Ordinal))
                {
                    offences.Add($"{method.Name} of {type.FullName} is written in {file}; it belongs in Features/{name}/{name}Feature.cs");
                }
            }
        }

        return offences.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The feature a type belongs to (the namespace segment after <c>Features</c>), or null outside the features.</summary>
    public string? FeatureOf(TypeDefinition type)
    {
        var ns = TypeDependencies.Outermost(type).Namespace;
        return ns.StartsWith(Features + ".", StringComparison.Ordinal) ? ns[(Features.Length + 1)..].Split('.')[0] : null;
    }

    private static bool IsSurface(TypeDefinition type) => TypeDependencies.HasAttribute(TypeDependencies.Outermost(type), SurfaceAttribute);

    private static bool In(TypeDefinition type, string ns)
    {
        var actual = TypeDependencies.Outermost(type).Namespace;
        return actual == ns || actual.StartsWith(ns + ".", StringComparison.Ordinal);
    }

    private static string At(string? file) => file is null ? "" : $" ({file})";

    private List<string> Offences(string sources, Func<TypeDependency, bool> offends, Func<TypeDependency, string>? why = null) =>
        assembly.Types.Where(t => In(t, sources))
            .SelectMany(assembly.Of)
            .Where(offends)
            .GroupBy(d => (d.Source.FullName, d.Target.FullName))
            .Select(g => $"{g.Key.Item1} names {g.Key.Item2}{(why is null ? "" : $" ({why(g.First())})")}, in: {Places(g.Select(d => d.Via).Distinct().ToList())}")
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The first places a dependency is found, enough to find it in the source.</summary>
    private static string Places(List<string> places) =>
        string.Join("; ", places.Take(3)) + (places.Count > 3 ? $"; and {places.Count - 3} more" : "");

    [GeneratedRegex("^(Add|Map)(?<name>[A-Z][A-Za-z0-9]*)Feature$")]
    private static partial Regex EntryPoint();
}
