using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aap.Api.Platform.Persistence;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Observability;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>An application host on the database and storage a test gives it (a private server it can stop).</summary>
internal sealed class OutageFactory(DatabaseProvider provider) : AapFactory
{
    internal override DatabaseProvider Provider => provider;
}

/// <summary>What the outage tests send and expect.</summary>
internal static class Outages
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Asserts the refusal of a dependency that is down: a 503 problem naming it, with <c>Retry-After: 5</c>.</summary>
    public static async Task<JsonElement> ShouldBeUnavailableAsync(this HttpResponseMessage response, string code, string dependency)
    {
        var problem = await Problem.ReadAsync(response, HttpStatusCode.ServiceUnavailable, code);
        problem.GetProperty("dependency").GetString().ShouldBe(dependency);
        problem.GetProperty("detail").GetString()!.ShouldContain("not applied");
        response.Headers.RetryAfter?.Delta.ShouldBe(TimeSpan.FromSeconds(5));
        return problem;
    }

    public static Task<HttpResponseMessage> CreateTodoAsync(this HttpClient client, string title) =>
        client.PostAsync("/api/v1/todos", JsonBody.Of(JsonSerializer.Serialize(new { title })), Ct);

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, byte[] content) =>
        client.PostAsync("/api/v1/files", new MultipartFormDataContent { { Images.Part(content), "file", "outage.png" } }, Ct);

    /// <summary>The page a browser asks for, as a browser asks.</summary>
    public static Task<HttpResponseMessage> PageAsync(this HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        return client.SendAsync(request, Ct);
    }

    public static async Task<double> FailuresAsync(this AapFactory host, string dependency) =>
        (await MetricsTests.ScrapeAsync(host)).Sum("aap_dependency_failures_total", ("dependency", dependency));

    /// <summary>Sends <paramref name="send"/> until it is answered <paramref name="expected"/> (the server is coming back), within 60 s.</summary>
    public static async Task<HttpResponseMessage> UntilAsync(Func<Task<HttpResponseMessage>> send, HttpStatusCode expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var response = await send();
            if (response.StatusCode == expected || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(100, Ct);
        }
    }
}
