using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Aap.LoadMix;

/// <summary>One answer: its status (0 when none came: a timeout or a broken connection), body and time.</summary>
internal readonly record struct Answer(int Status, string Body, double Milliseconds)
{
    public bool Succeeded => Status is >= 200 and < 300;

    public JsonElement Json() => JsonDocument.Parse(Body).RootElement;
}

/// <summary>Sends one request and times it from the send to the last byte of the body.</summary>
internal sealed class Api(HttpClient http)
{
    public async Task<Answer> SendAsync(HttpMethod method, string path, string? token = null, HttpContent? content = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return new Answer((int)response.StatusCode, body, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Answer(0, e.GetType().Name + ": " + e.Message, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    public static StringContent JsonBody(object value) =>
        new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    /// <summary>Signs in and returns the access token, or the failed answer.</summary>
    public async Task<(string? Token, Answer Answer)> LoginAsync(string login, string password)
    {
        var answer = await SendAsync(HttpMethod.Post, "/api/v1/auth/login", content: JsonBody(new { login, password }));
        return (answer.Succeeded ? answer.Json().GetProperty("data").GetProperty("access_token").GetString() : null, answer);
    }
}

/// <summary>The apps and categories the users read and complete, read once before the load.</summary>
internal sealed record Catalog(IReadOnlyList<long> AppIds, IReadOnlyList<string> Categories)
{
    public static async Task<Catalog> ReadAsync(Api api)
    {
        var ids = new List<long>();
        for (var page = 1; ; page++)
        {
            var answer = await api.SendAsync(HttpMethod.Get, $"/api/v1/apps?page={page}&size=100&sort=created_at");
            if (!answer.Succeeded)
            {
                throw new InvalidOperationException($"GET /api/v1/apps answered {answer.Status}: {answer.Body}");
            }

            var data = answer.Json().GetProperty("data");
            ids.AddRange(data.EnumerateArray().Select(app => app.GetProperty("id").GetInt64()));
            if (data.GetArrayLength() < 100)
            {
                break;
            }
        }

        var categories = await api.SendAsync(HttpMethod.Get, "/api/v1/categories");
        var slugs = categories.Succeeded
            ? categories.Json().GetProperty("data").EnumerateArray().Select(c => c.GetProperty("slug").GetString()!).ToList()
            : [];
        return new Catalog(ids, slugs);
    }
}
