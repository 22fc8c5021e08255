namespace Aap.Api.Tests.Architecture;

/// <summary>
/// Each module rule run over <c>Architecture/Sample</c>, a miniature layout that breaks every rule once: the rules
/// find exactly those offences, named precisely, and let the allowed uses (a feature's surface) pass.
/// </summary>
public sealed class ModuleRulesSampleTests
{
    private const string Sample = "Aap.Api.Tests.Architecture.Sample";

    private static readonly Lazy<ModuleRules> Rules =
        new(() => new ModuleRules(TypeDependencies.Of(typeof(ModuleRulesSampleTests).Assembly.Location), Sample));

    [Fact]
    public void Platform_naming_a_feature_inside_a_lambda_is_found() =>
        Rules.Value.PlatformNamesNoFeatureDialectOrCli().ShouldHaveSingleItem()
            .ShouldStartWith($"{Sample}.Platform.Clock names {Sample}.Features.One.Widget, in: body of {Sample}.Platform.Clock+<>c");

    [Fact]
    public void NetArchTest_agrees_on_the_namespace_rules()
    {
        var assembly = typeof(ModuleRulesSampleTests).Assembly;

        ModuleBoundaryTests.NetArchTestOffences(assembly, $"{Sample}.Platform", $"{Sample}.Features", $"{Sample}.Dialects", $"{Sample}.Cli")
            .ShouldHaveSingleItem().ShouldStartWith($"{Sample}.Platform.Clock");
        ModuleBoundaryTests.NetArchTestOffences(assembly, $"{Sample}.Features", $"{Sample}.Dialects", $"{Sample}.Cli")
            .ShouldHaveSingleItem().ShouldStartWith($"{Sample}.Features.One.WidgetService");
    }

    [Fact]
    public void A_feature_naming_a_dialect_through_typeof_is_found() =>
        Rules.Value.FeaturesNameNoDialectOrCli().ShouldHaveSingleItem()
            .ShouldBe($"{Sample}.Features.One.WidgetService names {Sample}.Dialects.SeedSample, in: body of {Sample}.Features.One.WidgetService.DialectName");

    [Fact]
    public void Another_features_entity_as_a_generic_argument_is_found_and_its_surface_is_allowed() =>
        Rules.Value.FeaturesNameOtherFeaturesOnlyThroughTheirSurface().ShouldHaveSingleItem()
            .ShouldStartWith($"{Sample}.Features.Two.TwoFeature names {Sample}.Features.One.Widget (One's {Sample}.Features.One.Widget is not [FeatureSurface]), in: body of {Sample}.Features.Two.TwoFeature+<CountWidgetsAsync>");

    [Fact]
    public void A_dialect_naming_the_context_or_an_entity_is_found_and_a_surface_is_allowed() =>
        Rules.Value.DialectsNameOnlyFeatureSurfacesAndNeverTheDbContext().ShouldBe(
        [
            $"{Sample}.Dialects.SeedSample names {Sample}.Features.One.Widget (One's {Sample}.Features.One.Widget is not [FeatureSurface]), in: body of {Sample}.Dialects.SeedSample.Count",
            $"{Sample}.Dialects.SeedSample names {Sample}.Platform.Persistence.AppDbContext (the EF context), in: signature of {Sample}.Dialects.SeedSample.Count",
        ]);

    [Fact]
    public void A_page_naming_the_context_or_an_entity_is_found_and_a_surface_is_allowed() =>
        Rules.Value.WebNamesOnlyFeatureSurfacesAndNeverTheDbContext().ShouldBe(
        [
            $"{Sample}.Web.PageSample names {Sample}.Features.One.Widget (One's {Sample}.Features.One.Widget is not [FeatureSurface]), in: body of {Sample}.Web.PageSample.Count",
            $"{Sample}.Web.PageSample names {Sample}.Platform.Persistence.AppDbContext (the EF context), in: signature of {Sample}.Web.PageSample.Count",
        ]);

    [Fact]
    public void An_entity_marked_as_surface_is_found() =>
        Rules.Value.NoSurfaceTypeIsAnEntity().ShouldBe(
            [$"{Sample}.Features.One.Gadget is [FeatureSurface] but is an EF entity (configured by {Sample}.Features.One.WidgetConfiguration): expose a record instead"]);

    [Fact]
    public void An_entry_point_outside_its_feature_class_or_file_is_found()
    {
        var offences = Rules.Value.FeatureEntryPointsLiveInTheirFeatureClass();

        offences.Count.ShouldBe(2, string.Join(Environment.NewLine, offences));
        offences[0].ShouldStartWith($"AddOneFeature is declared in {Sample}.Features.One.OneEndpoints (");
        offences[0].ShouldEndWith($"it belongs in {Sample}.Features.One.OneFeature (Features/One/OneFeature.cs)");
        offences[1].ShouldStartWith($"MapTwoFeature of {Sample}.Features.Two.TwoFeature is written in ");
        offences[1].ShouldEndWith("Architecture/Sample/SampleModules.cs; it belongs in Features/Two/TwoFeature.cs");
    }
}
