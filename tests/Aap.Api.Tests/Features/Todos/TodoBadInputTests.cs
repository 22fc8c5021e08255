using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Features.Todos;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Todos;

/// <summary>
/// Bad input to the task routes is a problem with a stable code that names the field, and the database is left as
/// it was: every refused request is bracketed by a snapshot of the rows it could have touched.
/// </summary>
public abstract partial class TodoBadInputTests(AapFactory factory)
{
    // A route is "METHOD path [content type]"; {id} stands for the task a test aims at.
    private const string List = "GET /api/v1/todos";
    private const string Create = "POST /api/v1/todos";
    private const string Get = "GET /api/v1/todos/{id}";
    private const string Replace = "PUT /api/v1/todos/{id}";
    private const string MergePatch = "PATCH /api/v1/todos/{id} application/merge-patch+json";
    private const string JsonPatch = "PATCH /api/v1/todos/{id} application/json";
    private const string Delete = "DELETE /api/v1/todos/{id}";
    private const string Restore = "POST /api/v1/todos/{id}/restore";
    private const string SeedList = "GET /tasks";
    private const string SeedCreate = "POST /tasks";
    private const string SeedGet = "GET /tasks/{id}";
    private const string SeedUpdate = "PUT /tasks/{id}";
    private const string SeedDelete = "DELETE /tasks/{id}";

    /// <summary>Writes whose body binds to a typed request: the JSON reader refuses wrong types.</summary>
    private static readonly string[] TypedWrites = [Create, Replace, SeedCreate];

    /// <summary>Writes whose body is read as a merge patch: the service refuses wrong types.</summary>
    private static readonly string[] MergeWrites = [MergePatch, JsonPatch, SeedUpdate];

    private static readonly string[] Conditional = [Replace, MergePatch, JsonPatch, Delete, SeedUpdate, SeedDelete];

    private static readonly string[] ById = [Get, .. Conditional, Restore, SeedGet];

    /// <summary>
    /// A body, then what a typed write and a merge patch answer ("code field"; null where the body is fine there).
    /// <c>&lt;N letters&gt;</c> stands for N letters.
    /// </summary>
    private static readonly (string Body, string? Typed, string? Merge)[] BadBodies =
    [
        ("{}", "validation_failed title", null),
        ("""{"description": "no title"}""", "validation_failed title", null),
        ("""{"title": null}""", "validation_failed title", "validation_failed title"),
        ("""{"title": ""}""", "validation_failed title", "validation_failed title"),
        ("""{"title": " \t\n "}""", "validation_failed title", "validation_failed title"),
        ("""{"title": "<201 letters>"}""", "validation_failed title", "validation_failed title"),
        ("""{"title": "  <201 letters>  "}""", "validation_failed title", "validation_failed title"),
        ("""{"title": "ok", "description": "<5001 letters>"}""", "validation_failed description", "validation_failed description"),
        // PostgreSQL cannot store U+0000; "\ud800" is a lone surrogate, which is no text.
        ("""{"title": "a\u0000b"}""", "validation_failed title", "validation_failed title"),
        ("""{"title": "ok", "description": "a\u0000b"}""", "validation_failed description", "validation_failed description"),
        ("""{"title": "\ud800"}""", "invalid_json title", "validation_failed title"),
        ("""{"title": 42}""", "invalid_json title", "validation_failed title"),
        ("""{"title": ["ok"]}""", "invalid_json title", "validation_failed title"),
        ("""{"title": "ok", "description": 7}""", "invalid_json description", "validation_failed description"),
        ("""{"title": "ok", "status": "bogus"}""", "invalid_json status", "validation_failed status"),
        ("""{"title": "ok", "status": 1}""", "invalid_json status", "validation_failed status"),
        ("""{"title": "ok", "status": ["pending"]}""", "invalid_json status", "validation_failed status"),
        ("""{"title": "ok", "status": null}""", null, "validation_failed status"),
        ("""{"title": "ok", "priority": "bogus"}""", "invalid_json priority", "validation_failed priority"),
        ("""{"title": "ok", "priority": 2}""", "invalid_json priority", "validation_failed priority"),
        ("""{"title": "ok", "priority": null}""", null, "validation_failed priority"),
        ("""{"title": "ok", "due_date": "2026-02-30"}""", "invalid_json due_date", "validation_failed due_date"),
        ("""{"title": "ok", "due_date": "tomorrow"}""", "invalid_json due_date", "validation_failed due_date"),
        ("""{"title": "ok", "due_date": 20260101}""", "invalid_json due_date", "validation_failed due_date"),
        ("""{"title": "ok", "due_date": "2026-01-01T00:00:00Z"}""", "invalid_json due_date", "validation_failed due_date"),
        ("""[{"title": "ok"}]""", "invalid_json", "validation_failed body"),
        ("\"a string\"", "invalid_json", "validation_failed body"),
        ("42", "invalid_json", "validation_failed body"),
        ("null", "bad_request", "validation_failed body"),
        ("""{"title": """, "invalid_json title", "invalid_json"),
        ("", "bad_request", "bad_request"),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string, string?> BadWrites()
    {
        var data = new TheoryData<string, string, string, string?>();
        foreach (var (body, typed, merge) in BadBodies)
        {
            foreach (var (routes, outcome) in new[] { (TypedWrites, typed), (MergeWrites, merge) })
            {
                if (outcome?.Split(' ') is [var code, .. var field])
                {
                    foreach (var route in routes)
                    {
                        data.Add(route, body, code, field.SingleOrDefault());
                    }
                }
            }
        }

        return data;
    }

    public static TheoryData<string, string> UnknownIds() => Cross(ById, "0", "-1", "9223372036854775807");

    public static TheoryData<string, string> MalformedIds() => Cross(ById, "abc", "1.5", "99999999999999999999", "-9223372036854775809");

    /// <summary>Tasks out of the caller's reach: its deleted ones and another user's; restore reaches only its deleted ones.</summary>
    public static TheoryData<string, string> HiddenTasks()
    {
        var data = Cross([.. ById.Except([Restore])], "deleted", "foreign", "foreign deleted");
        data.Add(Restore, "live");
        data.Add(Restore, "foreign");
        data.Add(Restore, "foreign deleted");
        return data;
    }

    public static TheoryData<string, string> StaleWrites() => Cross(Conditional, "stale", "weak");

    public static TheoryData<string, string> FullLengthTitles() => Cross([.. TypedWrites, .. MergeWrites], "<200 letters>", "  <200 letters>\\t ");

    public static TheoryData<string> Merges() => [.. MergeWrites];

    public static TheoryData<string> Writes() => [.. TypedWrites, .. MergeWrites];

    public static TheoryData<string, string?> EveryRoute() => Cross<string?>(
        [List, Create, .. ById, SeedList, SeedCreate], null, "Bearer not-a-token");

    [Theory]
    [MemberData(nameof(BadWrites))]
    public async Task A_bad_body_is_refused_naming_the_field_and_changes_nothing(string route, string body, string code, string? field)
    {
        using var me = await ArrangeAsync();

        await RefusedAsync(me.Client, Request(route, me.TaskId, body), HttpStatusCode.BadRequest, code, field, me.Id);
    }

    [Theory]
    [InlineData("/api/v1/todos?status=bogus", "status")]
    [InlineData("/api/v1/todos?priority=bogus", "priority")]
    [InlineData("/api/v1/todos?sort=bogus", "sort")]
    [InlineData("/api/v1/todos?q=a%00b", "q")]
    [InlineData("/api/v1/todos?sort=-", "sort")]
    [InlineData("/api/v1/todos?page=0", "page")]
    [InlineData("/api/v1/todos?page=-1", "page")]
    [InlineData("/api/v1/todos?page=1000001", "page")]
    [InlineData("/api/v1/todos?page=abc", "page")]
    [InlineData("/api/v1/todos?page=99999999999", "page")]
    [InlineData("/api/v1/todos?size=0", "size")]
    [InlineData("/api/v1/todos?size=101", "size")]
    [InlineData("/api/v1/todos?size=1.5", "size")]
    [InlineData("/api/v1/todos?per_page=0", "per_page")]
    [InlineData("/api/v1/todos?per_page=101", "per_page")]
    [InlineData("/api/v1/todos?include_deleted=maybe", "include_deleted")]
    [InlineData("/tasks?page=0", "page")]
    [InlineData("/tasks?page=abc", "page")]
    [InlineData("/tasks?per_page=101", "per_page")]
    public async Task A_bad_list_query_is_a_400_naming_the_parameter(string url, string field)
    {
        using var me = await ArrangeAsync();

        await RefusedAsync(me.Client, new HttpRequestMessage(HttpMethod.Get, url), HttpStatusCode.BadRequest, "validation_failed", field, me.Id);
    }

    [Theory]
    [MemberData(nameof(UnknownIds))]
    public async Task An_id_that_names_no_task_is_a_404(string route, string id)
    {
        using var me = await ArrangeAsync();

        await RefusedAsync(me.Client, Request(route, id), HttpStatusCode.NotFound, "not_found", null, me.Id);
    }

    [Theory]
    [MemberData(nameof(MalformedIds))]
    public async Task An_id_that_is_not_a_64_bit_number_is_a_400_naming_the_id(string route, string id)
    {
        using var me = await ArrangeAsync();

        await RefusedAsync(me.Client, Request(route, id), HttpStatusCode.BadRequest, "validation_failed", "id", me.Id);
    }

    [Theory]
    [MemberData(nameof(HiddenTasks))]
    public async Task A_deleted_or_foreign_task_is_a_404_and_stays_as_it_was(string route, string target)
    {
        using var me = await ArrangeAsync();
        using var stranger = await ArrangeAsync();
        var id = target switch
        {
            "live" => me.TaskId,
            "deleted" => await DeletedTaskAsync(me),
            "foreign" => stranger.TaskId,
            _ => await DeletedTaskAsync(stranger),
        };

        await RefusedAsync(me.Client, Request(route, id), HttpStatusCode.NotFound, "not_found", null, me.Id, stranger.Id);
    }

    [Theory]
    [MemberData(nameof(StaleWrites))]
    public async Task A_stale_or_weak_If_Match_is_a_412(string route, string tag)
    {
        using var me = await ArrangeAsync();
        using var change = await me.Client.SendAsync(Request(MergePatch, me.TaskId, """{"status": "in_progress"}"""), Ct);
        change.StatusCode.ShouldBe(HttpStatusCode.OK);
        var request = Request(route, me.TaskId);
        request.Headers.TryAddWithoutValidation("If-Match", tag == "stale" ? me.ETag : $"W/{change.Headers.ETag!.Tag}");

        await RefusedAsync(me.Client, request, HttpStatusCode.PreconditionFailed, "precondition_failed", null, me.Id);
    }

    [Theory]
    [MemberData(nameof(EveryRoute))]
    public async Task A_request_without_valid_credentials_is_a_401(string route, string? authorization)
    {
        using var me = await ArrangeAsync();
        using var anonymous = factory.Client();
        var request = Request(route, me.TaskId);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        await RefusedAsync(anonymous, request, HttpStatusCode.Unauthorized, "unauthorized", null, me.Id);
    }

    [Theory]
    [MemberData(nameof(FullLengthTitles))]
    public async Task A_title_of_200_characters_after_trimming_and_a_description_of_5000_are_accepted(string route, string title)
    {
        using var me = await ArrangeAsync();

        await AcceptedAsync(me, route, $$"""{"title": "{{title}}", "description": "<5000 letters>"}""");

        (await SnapshotAsync(me.Id)).ShouldContain(row => row.Title == Letters(200) && row.Description == Letters(5000));
    }

    [Theory]
    [MemberData(nameof(Merges))]
    public async Task A_merge_patch_null_clears_the_description_and_due_date_and_keeps_the_rest(string route)
    {
        using var me = await ArrangeAsync();
        var before = (await SnapshotAsync(me.Id)).Single();

        await AcceptedAsync(me, route, """{"description": null, "due_date": null}""");

        (await SnapshotAsync(me.Id)).Single().ShouldBe(before with
        {
            Description = null,
            DueDate = null,
            UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            Version = before.Version + 1,
        });
    }

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task Unknown_and_server_owned_fields_in_a_body_are_ignored(string route)
    {
        using var me = await ArrangeAsync();
        using var stranger = await ArrangeAsync();
        var strangers = await SnapshotAsync(stranger.Id);

        await AcceptedAsync(me, route, $$"""
            {"title": "renamed", "id": {{stranger.TaskId}}, "owner_id": {{stranger.Id}}, "deleted_at": "2026-01-01T00:00:00Z",
             "completed_at": "2026-01-01T00:00:00Z", "created_at": "2000-01-01T00:00:00Z", "version": 99, "colour": "blue"}
            """);

        var written = (await SnapshotAsync(me.Id)).Where(row => row.Title == "renamed").ShouldHaveSingleItem();
        written.OwnerId.ShouldBe(me.Id);
        written.Id.ShouldNotBe(stranger.TaskId);
        written.DeletedAt.ShouldBeNull();
        written.CompletedAt.ShouldBeNull();
        written.CreatedAt.ShouldBe(factory.Clock.GetUtcNow().UtcDateTime);
        written.Version.ShouldBe(route is Create or SeedCreate ? 1 : 2);
        (await SnapshotAsync(stranger.Id)).ShouldBe(strangers);
    }

    /// <summary>Sends a request that must be refused, and checks that the owners' rows are as they were.</summary>
    private async Task RefusedAsync(HttpClient client, HttpRequestMessage request, HttpStatusCode status, string code, string? field, params long[] owners)
    {
        var before = await SnapshotAsync(owners);

        using (request)
        using (var response = await client.SendAsync(request, Ct))
        {
            var problem = await Problem.ReadAsync(response, status, code);
            List<string> fields = problem.TryGetProperty("errors", out var errors) ? [.. errors.EnumerateObject().Select(e => e.Name)] : [];
            fields.ShouldBe(field is null ? [] : [field], problem.ToString());
            if (field is not null)
            {
                Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
            }
        }

        (await SnapshotAsync(owners)).ShouldBe(before);
    }

    private static async Task AcceptedAsync(Caller me, string route, string body)
    {
        using var response = await me.Client.SendAsync(Request(route, me.TaskId, body), Ct);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>A new user, signed in, with one task that has every field set.</summary>
    private async Task<Caller> ArrangeAsync()
    {
        var account = await factory.RegisterAsync();
        var client = await factory.ClientForAsync(account);
        using var response = await client.SendAsync(Request(Create, 0, """{"title": "as it was", "description": "kept", "priority": "high", "due_date": "2026-03-01"}"""), Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return new Caller(account.Id, client, body.GetProperty("data").GetProperty("id").GetInt64(), response.Headers.ETag!.Tag);
    }

    private static async Task<long> DeletedTaskAsync(Caller owner)
    {
        using var created = await owner.Client.SendAsync(Request(Create, 0, """{"title": "deleted"}"""), Ct);
        var id = (await created.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        using var deleted = await owner.Client.SendAsync(Request(Delete, id), Ct);
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        return id;
    }

    private Task<List<Row>> SnapshotAsync(params long[] owners) => factory.DbAsync(db => db.Set<TodoTask>().IgnoreQueryFilters()
        .Where(t => owners.Contains(t.OwnerId))
        .OrderBy(t => t.Id)
        .Select(t => new Row(t.Id, t.OwnerId, t.Title, t.Description, t.Status, t.Priority, t.DueDate, t.CompletedAt, t.CreatedAt, t.UpdatedAt, t.DeletedAt, t.Version))
        .ToListAsync(Ct));

    /// <summary>A request to <paramref name="route"/>; writes carry <paramref name="body"/>, a valid one by default.</summary>
    private static HttpRequestMessage Request(string route, object id, string body = """{"title": "valid"}""")
    {
        var (method, path, contentType) = route.Split(' ') switch
        {
            [var m, var p] => (m, p, "application/json"),
            [var m, var p, var type] => (m, p, type),
            _ => throw new ArgumentException(route, nameof(route)),
        };
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{id}", $"{id}", StringComparison.Ordinal));
        if (method is "POST" or "PUT" or "PATCH" && !path.EndsWith("/restore", StringComparison.Ordinal))
        {
            request.Content = new StringContent(LettersPattern().Replace(body, m => Letters(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))), Encoding.UTF8, contentType);
        }

        return request;
    }

    private static string Letters(int count) => new('x', count);

    [GeneratedRegex("<([0-9]+) letters>")]
    private static partial Regex LettersPattern();

    private static TheoryData<string, T> Cross<T>(string[] routes, params T[] values)
    {
        var data = new TheoryData<string, T>();
        foreach (var route in routes)
        {
            foreach (var value in values)
            {
                data.Add(route, value);
            }
        }

        return data;
    }

    private sealed record Caller(long Id, HttpClient Client, long TaskId, string ETag) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    private sealed record Row(
        long Id, long OwnerId, string Title, string? Description, TodoStatus Status, TodoPriority Priority, DateOnly? DueDate,
        DateTime? CompletedAt, DateTime CreatedAt, DateTime UpdatedAt, DateTime? DeletedAt, long Version);

    public sealed class OnSqlite(SqliteFactory factory) : TodoBadInputTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : TodoBadInputTests(factory), IClassFixture<PostgresFactory>;
}
