// A miniature of the application's layout that breaks each module rule once, in a known place, so that
// ModuleRulesSampleTests can show every rule finds what it should (and lets pass what it should). These types are
// never used at run time; they exist only to be read from this assembly's IL.
using Aap.Api.Platform;
using Aap.Api.Tests.Architecture.Sample.Features.One;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Aap.Api.Tests.Architecture.Sample.Platform.Persistence
{
    internal sealed class AppDbContext(DbContextOptions options) : DbContext(options);
}

namespace Aap.Api.Tests.Architecture.Sample.Platform
{
    /// <summary>Breaks rule a: infrastructure that names a feature's entity inside a lambda.</summary>
    internal static class Clock
    {
        public static Func<object> Factory { get; } = () => new Widget();
    }
}

namespace Aap.Api.Tests.Architecture.Sample.Features.One
{
    /// <summary>An entity of feature One: never surface.</summary>
    internal sealed class Widget
    {
        public long Id { get; set; }
    }

    /// <summary>Breaks rule e: an entity marked as surface.</summary>
    [FeatureSurface]
    internal sealed class Gadget
    {
        public long Id { get; set; }
    }

    internal sealed class WidgetConfiguration : IEntityTypeConfiguration<Widget>, IEntityTypeConfiguration<Gadget>
    {
        public void Configure(EntityTypeBuilder<Widget> builder) => builder.HasKey(w => w.Id);

        public void Configure(EntityTypeBuilder<Gadget> builder) => builder.HasKey(g => g.Id);
    }

    /// <summary>Feature One's surface; breaks rule b by naming the dialect.</summary>
    [FeatureSurface]
    internal sealed class WidgetService
    {
        public static string DialectName() => typeof(Dialects.SeedSample).Name;
    }

    /// <summary>Breaks rule f: an entry point outside <c>OneFeature</c>.</summary>
    internal static class OneEndpoints
    {
        public static WebApplicationBuilder AddOneFeature(this WebApplicationBuilder builder) => builder;
    }
}

namespace Aap.Api.Tests.Architecture.Sample.Features.Two
{
    /// <summary>Feature Two: the right class for its entry point but not the right file (rule f); breaks rule c through a generic argument in an async body.</summary>
    internal static class TwoFeature
    {
        public static IEndpointRouteBuilder MapTwoFeature(this IEndpointRouteBuilder endpoints) => endpoints;

        public static async Task<int> CountWidgetsAsync(DbContext db) => await db.Set<Widget>().CountAsync();

        public static string SurfaceIsFine() => WidgetService.DialectName();
    }
}

namespace Aap.Api.Tests.Architecture.Sample.Dialects
{
    /// <summary>Breaks rule d twice (the EF context, an entity); its use of <see cref="WidgetService"/> is allowed.</summary>
    internal static class SeedSample
    {
        public static int Count(Platform.Persistence.AppDbContext db) => db.Set<Widget>().Count() + WidgetService.DialectName().Length;
    }
}

namespace Aap.Api.Tests.Architecture.Sample.Web
{
    /// <summary>Breaks the Web rule like a dialect would (an entity, the EF context); its use of <see cref="WidgetService"/> is allowed.</summary>
    internal sealed class PageSample
    {
        public static int Count(Platform.Persistence.AppDbContext db) => db.Set<Widget>().Count() + WidgetService.DialectName().Length;
    }
}
