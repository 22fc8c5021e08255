using System.Reflection;
using NetArchTest.Rules;

namespace Aap.Api.Tests.Architecture;

/// <summary>
/// The module boundaries of <c>Aap.Api</c> (issue 12; docs/architecture.md), read from the compiled assembly's IL:
/// Platform knows no feature, a feature uses another only through its <c>[FeatureSurface]</c> types, the seed
/// dialects are adapters over those surfaces, and each feature's Add/Map pair lives in its own Feature class.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private static readonly Lazy<ModuleRules> Rules =
        new(() => new ModuleRules(TypeDependencies.Of(typeof(Program).Assembly.Location), "Aap.Api"));

    [Fact]
    public void Platform_depends_on_no_feature_dialect_or_command_line()
    {
        const string rule = "Aap.Api.Platform is infrastructure and must not name Aap.Api.Features.*, Aap.Api.Dialects, Aap.Api.Cli or Aap.Api.Web";
        ShouldHaveNone(Rules.Value.PlatformNamesNoFeatureDialectOrCli(), rule);
        ShouldHaveNone(NetArchTestOffences(typeof(Program).Assembly, "Aap.Api.Platform", "Aap.Api.Features", "Aap.Api.Dialects", "Aap.Api.Cli", "Aap.Api.Web"), rule + " (NetArchTest)");
    }

    [Fact]
    public void Features_depend_on_no_dialect_or_command_line()
    {
        const string rule = "Aap.Api.Features.* must not name Aap.Api.Dialects, Aap.Api.Cli or Aap.Api.Web";
        ShouldHaveNone(Rules.Value.FeaturesNameNoDialectOrCli(), rule);
        ShouldHaveNone(NetArchTestOffences(typeof(Program).Assembly, "Aap.Api.Features", "Aap.Api.Dialects", "Aap.Api.Cli", "Aap.Api.Web"), rule + " (NetArchTest)");
    }

    [Fact]
    public void A_feature_uses_another_feature_only_through_its_surface() =>
        ShouldHaveNone(Rules.Value.FeaturesNameOtherFeaturesOnlyThroughTheirSurface(), "a feature may name another feature's type only if that type is [FeatureSurface]");

    [Fact]
    public void Seed_dialects_use_only_feature_surfaces_and_never_the_database_context() =>
        ShouldHaveNone(Rules.Value.DialectsNameOnlyFeatureSurfacesAndNeverTheDbContext(), "Aap.Api.Dialects may name feature types only through [FeatureSurface] types, and never AppDbContext");

    [Fact]
    public void The_pages_use_only_feature_surfaces_and_never_the_database_context()
    {
        ShouldHaveNone(Rules.Value.WebNamesOnlyFeatureSurfacesAndNeverTheDbContext(), "Aap.Api.Web (pages and their generated views) may name feature types only through [FeatureSurface] types, and never AppDbContext");
        // The rule must see the pages: the generated views carry the Web namespace (@namespace in _ViewImports.cshtml).
        typeof(Program).Assembly.GetTypes().ShouldContain(t => t.Namespace == "Aap.Api.Web.Pages" && t.Name.EndsWith("_Index", StringComparison.Ordinal));
    }

    [Fact]
    public void No_feature_surface_type_is_an_entity() =>
        ShouldHaveNone(Rules.Value.NoSurfaceTypeIsAnEntity(), "an EF entity is never [FeatureSurface]");

    [Fact]
    public void Each_feature_entry_point_lives_in_its_feature_class() =>
        ShouldHaveNone(Rules.Value.FeatureEntryPointsLiveInTheirFeatureClass(), "Add<Name>Feature/Map<Name>Feature belong in Aap.Api.Features.<Name>.<Name>Feature (Features/<Name>/<Name>Feature.cs)");

    /// <summary>
    /// NetArchTest's own reading of "types under <paramref name="sources"/> name nothing under <paramref name="forbidden"/>":
    /// a second opinion on the namespace rules, from a tool that does not share <see cref="TypeDependencies"/>' code.
    /// </summary>
    internal static IReadOnlyList<string> NetArchTestOffences(Assembly assembly, string sources, params string[] forbidden) =>
        Types.InAssembly(assembly).That().ResideInNamespace(sources)
            .ShouldNot().HaveDependencyOnAny(forbidden).GetResult()
            .FailingTypes?.Select(t => $"{t.FullName}: {t.Explanation}").Order(StringComparer.Ordinal).ToList() ?? [];

    internal static void ShouldHaveNone(IReadOnlyList<string> offences, string rule)
    {
        if (offences.Count > 0)
        {
            Assert.Fail($"{rule}; {offences.Count} offence(s):{Environment.NewLine}{string.Join(Environment.NewLine, offences.Select(o => "  - " + o))}");
        }
    }
}
