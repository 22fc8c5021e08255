using System.Reflection;
using Aap.Api.Tests.Web;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Architecture;

/// <summary>
/// MVC serves the compiled pages from the service's compiled-Razor part and does not search the service's own types
/// for controllers, view components or tag helpers (WebFeature): a view component would not be found by its name, a
/// controller would not be routed, and a tag helper of the service's own would not be offered to runtime services
/// that list them. So the service has none, by base type, attribute or MVC's naming convention.
/// </summary>
public sealed class WebArchitectureTests(PagesFactory factory) : IClassFixture<PagesFactory>
{
    private static readonly Assembly Service = typeof(Program).Assembly;

    [Fact]
    public void The_service_declares_no_controller_view_component_or_tag_helper()
    {
        var offenders = Service.GetTypes()
            .Where(type => typeof(ControllerBase).IsAssignableFrom(type)
                           || typeof(ViewComponent).IsAssignableFrom(type)
                           || typeof(ITagHelper).IsAssignableFrom(type)
                           || type.IsDefined(typeof(ControllerAttribute), inherit: true)
                           || type.IsDefined(typeof(ViewComponentAttribute), inherit: true)
                           || (type.IsClass && type.Name.EndsWith("Controller", StringComparison.Ordinal))
                           || (type.IsClass && type.Name.EndsWith("ViewComponent", StringComparison.Ordinal)))
            .Select(type => type.FullName)
            .ToArray();

        offenders.ShouldBeEmpty("MVC does not look for these in this assembly: see WebFeature.KeepCompiledPagesOnly");
    }

    [Fact]
    public void Mvc_reads_the_compiled_pages_of_the_service_but_not_its_types()
    {
        var parts = factory.Services.GetRequiredService<ApplicationPartManager>().ApplicationParts;

        parts.OfType<AssemblyPart>().ShouldNotContain(part => part.Assembly == Service);
        parts.OfType<CompiledRazorAssemblyPart>().ShouldContain(part => part.Assembly == Service);
    }
}
