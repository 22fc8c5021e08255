using Aap.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// ASP.NET Core's validation filter runs on the endpoints with something to validate and on no other: a handler
/// that takes only the request's context, the caller, services and plain values is left without it. That the others
/// still refuse what the filter finds is what the bad-input suites of every feature check (TodoBadInputTests and the rest).
/// </summary>
public sealed class ValidationScopeTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private RouteEndpoint Endpoint(string name) =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == name);

    private bool Validated(string name) => Endpoint(name).Metadata.GetMetadata<IDisableValidationMetadata>() is null;

    [Fact]
    public void Handlers_with_nothing_to_validate_go_without_the_filter_and_the_others_keep_it()
    {
        // The caller, the request's context, a service, a cancellation token, a route id.
        Validated("GetMe").ShouldBeFalse();
        Validated("GetTodo").ShouldBeFalse();
        Validated("GetStatus").ShouldBeFalse();

        // A JSON body, an [AsParameters] query with ranges, a body beside the request's context.
        Validated("Register").ShouldBeTrue();
        Validated("ListTodos").ShouldBeTrue();
        Validated("Login").ShouldBeTrue();
        Validated("CreateTodo").ShouldBeTrue();
    }
}
