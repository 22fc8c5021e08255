namespace Aap.Api.Features.Todos;

/// <summary>Personal to-do tasks: their service and the routes of <c>/api/v1/todos</c>.</summary>
internal static class TodosFeature
{
    public static WebApplicationBuilder AddTodosFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<TodoService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapTodosFeature(this IEndpointRouteBuilder endpoints) => TodoEndpoints.Map(endpoints);
}
