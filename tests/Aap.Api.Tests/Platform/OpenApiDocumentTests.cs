using System.Net;
using Aap.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform;

/// <summary>The OpenAPI document shows the paths clients call, and the docs can be switched off.</summary>
public sealed class OpenApiDocumentTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_route_mapped_with_a_trailing_slash_is_listed_with_it()
    {
        using var response = await factory.Client().GetAsync("/openapi/v1.json", Ct);
        var paths = (await response.JsonAsync()).GetProperty("paths");
        var operationsByPath = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject()
                .Where(o => o.Value.TryGetProperty("operationId", out _))
                .Select(o => (Path: p.Name, Id: o.Value.GetProperty("operationId").GetString()!)))
            .ToList();
        var slashed = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.Length > 1 && e.RoutePattern.RawText.EndsWith('/') &&
                        e.Metadata.GetMetadata<Aap.Api.Platform.OpenApi.OpenApiSetup.TrailingSlashMetadata>() is not null)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName)
            .OfType<string>()
            .ToList();

        slashed.ShouldContain("ProblemSet2CreateApp");
        foreach (var name in slashed)
        {
            operationsByPath.Where(o => o.Id == name).Select(o => o.Path).ShouldAllBe(p => p.EndsWith('/'), name);
            operationsByPath.ShouldContain(o => o.Id == name, name);
        }

        paths.TryGetProperty("/api/apps/create/", out _).ShouldBeTrue();
        paths.TryGetProperty("/api/apps/create", out _).ShouldBeFalse();
        var detail = paths.GetProperty("/api/apps/detail/{app_id}/");
        detail.TryGetProperty("get", out _).ShouldBeTrue();
        detail.GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data")
            .GetProperty("schema").GetProperty("properties").TryGetProperty("screenshot", out _).ShouldBeTrue();
        paths.TryGetProperty("/api/v1/status", out _).ShouldBeTrue("routes without a slash keep their path");
        paths.TryGetProperty("/api/v1/me", out _).ShouldBeTrue("a group's own route is listed without a slash");
        paths.TryGetProperty("/tasks", out _).ShouldBeTrue("seed 003 calls /tasks without one");
        paths.TryGetProperty("/api/v1/me/", out _).ShouldBeFalse();
        paths.TryGetProperty("/register", out _).ShouldBeTrue("seed 003 registers at /register");
    }

    [Fact]
    public async Task Bearer_and_Basic_are_declared_and_required_exactly_where_a_route_needs_a_caller()
    {
        using var response = await factory.Client().GetAsync("/openapi/v1.json", Ct);
        var document = await response.JsonAsync();
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        (schemes.GetProperty("bearer").GetProperty("type").GetString(), schemes.GetProperty("bearer").GetProperty("scheme").GetString()).ShouldBe(("http", "bearer"));
        (schemes.GetProperty("basic").GetProperty("type").GetString(), schemes.GetProperty("basic").GetProperty("scheme").GetString()).ShouldBe(("http", "basic"));
        var paths = document.GetProperty("paths");

        string[] Security(string path, string method) =>
            paths.GetProperty(path).GetProperty(method).TryGetProperty("security", out var security)
                ? [.. security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name))]
                : [];

        Security("/api/v1/me", "get").ShouldBe(["bearer", "basic"]);
        Security("/api/me/", "get").ShouldBe(["bearer", "basic"]);
        Security("/api/v1/apps", "post").ShouldBe(["bearer", "basic"]);
        Security("/api/v1/apps/{id}/completions", "post").ShouldBe(["bearer", "basic"]);
        Security("/api/v1/status", "get").ShouldBeEmpty();
        Security("/api/v1/apps", "get").ShouldBeEmpty();
        Security("/api/v1/auth/login", "post").ShouldBeEmpty();

        var protectedCount = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Count(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null &&
                        e.Metadata.GetMetadata<IEndpointNameMetadata>() is not null);
        var securedCount = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject())
            .Count(o => o.Value.ValueKind == System.Text.Json.JsonValueKind.Object && o.Value.TryGetProperty("security", out _));
        securedCount.ShouldBe(protectedCount, "every operation that needs a caller says so, and no other");
    }

    [Fact]
    public async Task The_lists_that_page_by_cursor_document_the_cursor_and_both_bodies_and_the_others_do_not()
    {
        using var response = await factory.Client().GetAsync("/openapi/v1.json", Ct);
        var document = await response.JsonAsync();
        var paths = document.GetProperty("paths");
        var schemas = document.GetProperty("components").GetProperty("schemas");

        System.Text.Json.JsonElement Resolve(System.Text.Json.JsonElement schema) =>
            schema.TryGetProperty("$ref", out var reference) ? schemas.GetProperty(reference.GetString()!.Split('/')[^1]) : schema;

        bool HasCursor(string path) =>
            paths.GetProperty(path).GetProperty("get").TryGetProperty("parameters", out var parameters) &&
            parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == "cursor" && p.GetProperty("in").GetString() == "query");

        string[] keyset =
        [
            "/api/v1/todos", "/api/v1/admin/users/{id}/todos", "/api/v1/me/points/ledger", "/api/v1/points/transfers", "/api/v1/files",
            "/api/v1/me/completions", "/api/v1/admin/completions", "/api/v1/admin/users", "/api/v1/admin/audit", "/api/v1/admin/imports",
            "/api/v1/admin/jobs/{name}/runs",
        ];
        foreach (var path in keyset)
        {
            HasCursor(path).ShouldBeTrue(path);
            var bodies = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content")
                .GetProperty("application/json").GetProperty("schema").GetProperty("oneOf").EnumerateArray()
                .Select(b => Resolve(Resolve(b).GetProperty("properties").GetProperty("meta")).GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal))
                .Select(names => string.Join(",", names))
                .ToList();
            bodies.ShouldBe(["page,size,total,total_pages", "next_cursor,size"], ignoreOrder: true, path);
        }

        HasCursor("/api/v1/apps").ShouldBeFalse("the catalog pages by number only");
        HasCursor("/tasks").ShouldBeFalse("seed 003's list keeps its own paging");

        // Real answers of both modes fit the documented 200, each exactly one of its bodies.
        var checker = new OpenApiSchemaChecker(document);
        var ok = paths.GetProperty("/api/v1/todos").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema");
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        for (var i = 0; i < 2; i++)
        {
            using var created = await client.PostJsonAsync("/api/v1/todos", new { title = $"Task {i}" });
            created.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        foreach (var url in new[] { "/api/v1/todos?page=1&size=1", "/api/v1/todos?cursor=&size=1" })
        {
            using var listed = await client.GetAsync(url, Ct);
            checker.Check(await listed.JsonAsync(), ok).ShouldBeEmpty(url);
        }
    }

    [Fact]
    public async Task The_docs_are_served_in_Production_unless_switched_off()
    {
        await using var production = new SqliteFactory();
        production.UseEnvironment("Production");
        await production.InitializeAsync();
        await using var hidden = new SqliteFactory();
        hidden.UseEnvironment("Production").With("OpenApi:Enabled", "false");
        await hidden.InitializeAsync();

        using var document = await production.Client().GetAsync("/openapi/v1.json", Ct);
        using var ui = await production.Client().GetAsync("/docs/index.html", Ct);
        using var hiddenDocument = await hidden.Client().GetAsync("/openapi/v1.json", Ct);
        using var hiddenUi = await hidden.Client().GetAsync("/docs/index.html", Ct);
        using var status = await hidden.Client().GetAsync("/api/v1/status", Ct);

        document.StatusCode.ShouldBe(HttpStatusCode.OK);
        ui.StatusCode.ShouldBe(HttpStatusCode.OK);
        await Problem.ReadAsync(hiddenDocument, HttpStatusCode.NotFound, "not_found");
        await Problem.ReadAsync(hiddenUi, HttpStatusCode.NotFound, "not_found");
        status.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
