using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aap.Api.Features.Imports;
using Aap.Api.Features.Isins;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Keyset (cursor) paging of the deep lists: a walk by cursor returns every row of the list exactly once, in the
/// order of its page-number listing, stays exact while rows come and go, and a cursor is only ever good for the
/// list, filters and caller that it came from.
/// </summary>
public abstract class KeysetPagingTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Walking_the_tasks_by_cursor_returns_each_task_once_newest_first_and_none_of_another_user()
    {
        var me = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(me);
        using var other = await factory.ClientForAsync(await factory.RegisterAsync());
        var mine = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            // Pairs created at the same instant: the id breaks the tie.
            if (i % 2 == 0)
            {
                factory.Clock.Advance(TimeSpan.FromSeconds(1));
            }

            mine.Add(await CreateTaskAsync(client, $"Task {i}", i % 3 == 0 ? "completed" : "pending"));
            await CreateTaskAsync(other, $"Not mine {i}");
        }

        var walked = await WalkAsync(client, "/api/v1/todos", 3);

        walked.Select(Id).ShouldBe(await ListByPageAsync(client, "/api/v1/todos"));
        walked.Select(t => t.GetProperty("id").GetInt64()).ShouldBe(Enumerable.Reverse(mine));

        var pending = await WalkAsync(client, "/api/v1/todos?status=pending", 2);
        pending.Select(Id).ShouldBe(await ListByPageAsync(client, "/api/v1/todos?status=pending"));
        pending.ShouldAllBe(t => t.GetProperty("status").GetString() == "pending");
        pending.Count.ShouldBe(5);
    }

    [Fact]
    public async Task A_walk_neither_repeats_nor_skips_a_task_when_tasks_are_added_and_deleted_on_the_way()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var created = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            factory.Clock.Advance(TimeSpan.FromSeconds(1));
            created.Add(await CreateTaskAsync(client, $"Task {i}"));
        }

        var newestFirst = Enumerable.Reverse(created).ToList();
        using var first = await client.GetAsync("/api/v1/todos?cursor=&size=3", Ct);
        var page = await first.JsonAsync();
        page.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).ShouldBe(newestFirst.Take(3));

        // A newer task (before the cursor) and one deleted after it, while the client is between pages.
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        var added = await CreateTaskAsync(client, "Added during the walk");
        using (var delete = await client.DeleteAsync($"/api/v1/todos/{newestFirst[4]}", Ct))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var rest = await WalkFromAsync(client, "/api/v1/todos", page.GetProperty("meta").GetProperty("next_cursor").GetString()!, 3);

        var seen = page.GetProperty("data").EnumerateArray().Concat(rest).Select(t => t.GetProperty("id").GetInt64()).ToList();
        seen.ShouldBe(newestFirst.Where(id => id != newestFirst[4]));
        seen.ShouldNotContain(added);
        seen.ShouldBeUnique();
    }

    [Fact]
    public async Task A_cursor_replayed_with_other_filters_or_by_another_user_or_changed_or_made_up_is_a_400_naming_cursor()
    {
        var me = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(me);
        for (var i = 0; i < 3; i++)
        {
            await CreateTaskAsync(client, $"Task {i}");
        }

        var cursor = await NextCursorAsync(client, "/api/v1/todos?status=pending&cursor=&size=1");
        using (var same = await client.GetAsync($"/api/v1/todos?status=pending&cursor={cursor}&size=1", Ct))
        {
            same.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var tampered = cursor[..10] + (cursor[10] == 'A' ? 'B' : 'A') + cursor[11..];
        using var otherUser = await factory.ClientForAsync(await factory.RegisterAsync());
        (HttpClient Client, string Url)[] refused =
        [
            (client, $"/api/v1/todos?status=completed&cursor={cursor}&size=1"),
            (client, $"/api/v1/todos?cursor={cursor}&size=1"),
            (client, $"/api/v1/todos?status=pending&cursor={tampered}&size=1"),
            (client, "/api/v1/todos?cursor=not-a-cursor"),
            (client, "/api/v1/todos?cursor=" + new string('A', 600)),
            (client, $"/api/v1/me/points/ledger?cursor={cursor}"),
            (client, "/api/v1/todos?cursor=&page=2"),
            (client, "/api/v1/todos?cursor=&cursor="),
            (otherUser, $"/api/v1/todos?status=pending&cursor={cursor}&size=1"),
        ];
        foreach (var (caller, url) in refused)
        {
            using var response = await caller.GetAsync(url, Ct);
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            Problem.FieldErrors(problem, "cursor").ShouldNotBeEmpty(url);
        }

        using var sorted = await client.GetAsync("/api/v1/todos?cursor=&sort=title", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(sorted, HttpStatusCode.BadRequest, "validation_failed"), "sort").Single().ShouldContain("-created_at");
        foreach (var size in new[] { "0", "101" })
        {
            using var response = await client.GetAsync($"/api/v1/todos?cursor=&size={size}", Ct);
            Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), "size").ShouldNotBeEmpty();
        }
    }

    [Fact]
    public async Task Page_numbers_answer_as_before_beside_the_cursor()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        for (var i = 0; i < 3; i++)
        {
            await CreateTaskAsync(client, $"Task {i}");
        }

        using var response = await client.GetAsync("/api/v1/todos?page=2&size=2", Ct);
        var meta = (await response.JsonAsync()).GetProperty("meta");
        meta.EnumerateObject().Select(p => p.Name).ShouldBe(["page", "size", "total", "total_pages"]);
        (meta.GetProperty("page").GetInt32(), meta.GetProperty("total").GetInt64(), meta.GetProperty("total_pages").GetInt32()).ShouldBe((2, 3L, 2));
        response.Headers.GetValues("Link").Single().ShouldContain("rel=\"first\"");
        response.Headers.GetValues("Link").Single().ShouldNotContain("cursor");
    }

    [Fact]
    public async Task The_ledger_transfers_files_and_completions_walk_by_cursor_each_row_once_and_only_the_callers()
    {
        var me = await factory.RegisterAsync();
        var someone = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(me);
        using var theirs = await factory.ClientForAsync(someone);
        await factory.DbAsync(async db =>
        {
            for (var i = 0; i < 7; i++)
            {
                var at = factory.Clock.GetUtcNow().UtcDateTime.AddMinutes(i / 2);
                var transfer = new PointTransfer { FromUserId = i % 2 == 0 ? me.Id : someone.Id, ToUserId = i % 2 == 0 ? someone.Id : me.Id, Amount = i + 1, IdempotencyKey = $"k{i}", CreatedAt = at };
                db.Add(transfer);
                db.Add(new PointEntry { UserId = me.Id, Amount = i + 1, Reason = LedgerReasons.TransferIn, CreatedAt = at });
                db.Add(new PointEntry { UserId = someone.Id, Amount = i + 1, Reason = LedgerReasons.TransferIn, CreatedAt = at });
            }

            await db.SaveChangesAsync(Ct);
        });
        for (var i = 0; i < 4; i++)
        {
            using var upload = await client.PostAsync("/api/v1/files", new MultipartFormDataContent { { Images.Part(Images.Screenshot()), "file", $"f{i}.png" } }, Ct);
            upload.StatusCode.ShouldBe(HttpStatusCode.Created);
            using var completion = await client.CompleteAsync(await factory.AddAppAsync(), Images.Screenshot());
            completion.StatusCode.ShouldBe(HttpStatusCode.Created);
            if (i % 2 == 1)
            {
                factory.Clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        using (var theirUpload = await theirs.PostAsync("/api/v1/files", new MultipartFormDataContent { { Images.Part(Images.Screenshot()), "file", "theirs.png" } }, Ct))
        {
            theirUpload.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (string Url, int Count)[] lists =
        [
            ("/api/v1/me/points/ledger", -1), // the seven entries, and the credits of completions approved at once
            ("/api/v1/points/transfers", 7),
            ("/api/v1/points/transfers?direction=sent", 4),
            ("/api/v1/files", 8), // four uploads and four screenshots
            ("/api/v1/me/completions", 4),
        ];
        foreach (var (url, count) in lists)
        {
            var walked = await WalkAsync(client, url, 3);
            walked.Select(Id).ShouldBe(await ListByPageAsync(client, url), url);
            walked.Count.ShouldBe(count < 0 ? walked.Count : count, url);
            walked.Count.ShouldBeGreaterThanOrEqualTo(4, url);
        }

        var myLedger = (await WalkAsync(client, "/api/v1/me/points/ledger", 2)).Select(Id).ToList();
        var theirLedger = (await WalkAsync(theirs, "/api/v1/me/points/ledger", 2)).Select(Id).ToList();
        myLedger.Intersect(theirLedger).ShouldBeEmpty();
        (await WalkAsync(theirs, "/api/v1/files", 2)).Count.ShouldBe(1);
        (await WalkAsync(theirs, "/api/v1/me/completions", 2)).ShouldBeEmpty();

        // Another user's cursor is refused: it was given out to someone else.
        var cursor = await NextCursorAsync(client, "/api/v1/files?cursor=&size=1");
        using var foreign = await theirs.GetAsync($"/api/v1/files?cursor={cursor}&size=1", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(foreign, HttpStatusCode.BadRequest, "validation_failed"), "cursor").ShouldNotBeEmpty();
    }

    [Fact]
    public async Task The_admin_lists_walk_by_cursor_each_row_once()
    {
        var admin = await factory.CreateAdminAsync();
        using var client = await factory.ClientForAsync(admin);
        for (var i = 0; i < 3; i++)
        {
            await factory.RegisterAsync();
        }

        var user = await factory.RegisterAsync();
        using (var userClient = await factory.ClientForAsync(user))
        {
            await CreateTaskAsync(userClient, "One");
            await CreateTaskAsync(userClient, "Two");
            await CreateTaskAsync(userClient, "Three");
            using var completion = await userClient.CompleteAsync(await factory.AddAppAsync(), Images.Screenshot());
            completion.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var at = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.DbAsync(async db =>
        {
            for (var i = 0; i < 5; i++)
            {
                db.Add(new AuditEntry { OccurredAt = at.AddSeconds(i / 2), ActorId = admin.Id, ActorName = "admin", Action = "test.keyset", EntityType = "test", EntityId = $"{i}" });
                db.Add(new JobRun { Id = Guid.NewGuid().ToString("N"), Job = Aap.Api.Platform.Jobs.Maintenance.TrimJobHistoryJob.Name, Status = "succeeded", QueuedAt = at.AddSeconds(i / 2) });
                db.Add(new DataImport
                {
                    Id = Guid.NewGuid(), CreatedBy = admin.Id, CreatedAt = at.AddSeconds(i / 2), FileName = $"f{i}.csv", FileKey = $"imports/f{i}.csv",
                    TableName = "keyset", Options = """{"table": "keyset"}""", State = ImportStates.Succeeded,
                });
            }

            await db.SaveChangesAsync(Ct);
        });

        string[] lists =
        [
            "/api/v1/admin/users",
            "/api/v1/admin/users?role=user",
            $"/api/v1/admin/users/{user.Id}/todos",
            "/api/v1/admin/completions",
            $"/api/v1/admin/completions?user={user.Id}",
            "/api/v1/admin/audit",
            "/api/v1/admin/audit?action=test.keyset",
            $"/api/v1/admin/jobs/{Aap.Api.Platform.Jobs.Maintenance.TrimJobHistoryJob.Name}/runs",
            "/api/v1/admin/imports",
        ];
        foreach (var url in lists)
        {
            var walked = await WalkAsync(client, url, 2);
            walked.Select(Id).ShouldBe(await ListByPageAsync(client, url), url);
            walked.ShouldNotBeEmpty(url);
        }

        (await WalkAsync(client, "/api/v1/admin/audit?action=test.keyset", 2)).Count.ShouldBe(5);
        (await WalkAsync(client, $"/api/v1/admin/users/{user.Id}/todos", 2)).Count.ShouldBe(3);
        using var missing = await client.GetAsync("/api/v1/admin/jobs/no-such-job/runs?cursor=", Ct);
        await Problem.ReadAsync(missing, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_isin_list_walks_by_cursor_in_isin_order_each_isin_once()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var prefix = "ZX" + Convert.ToHexString(RandomNumberGenerator.GetBytes(2));
        var at = factory.Clock.GetUtcNow().UtcDateTime;
        var isins = Enumerable.Range(0, 9)
            .Select(i => new Isin { Code = $"{prefix}{i * 7919 % 1000:D3}{i:D3}", Country = "ZX", FirstSeen = at, LastSeen = at, RemovedAt = i % 4 == 3 ? at : null })
            .ToList();

        // At the ends of a prefix's range: the next text after "...99999" is "...9999A", after "...ZZZZZ" it carries.
        isins.Add(new Isin { Code = $"{prefix}999999", Country = "ZX", FirstSeen = at, LastSeen = at });
        isins.Add(new Isin { Code = $"{prefix}ZZZZZZ", Country = "ZX", FirstSeen = at, LastSeen = at });
        await factory.DbAsync(async db =>
        {
            db.AddRange(isins);
            await db.SaveChangesAsync(Ct);
        });

        var listed = isins.Where(i => i.RemovedAt == null).Select(i => i.Code).Order(StringComparer.Ordinal).ToList();
        var all = isins.Select(i => i.Code).Order(StringComparer.Ordinal).ToList();
        foreach (var url in new[] { $"/api/v1/isins?q={prefix}", $"/api/v1/isins?q={prefix}&country=zx", $"/api/v1/isins?q={prefix}&include_removed=true" })
        {
            var walked = (await WalkAsync(client, url, 2)).Select(Id).ToList();
            walked.ShouldBe(await ListByPageAsync(client, url), url);
            walked.ShouldBe(url.Contains("include_removed", StringComparison.Ordinal) ? all : listed, url);
        }

        (await WalkAsync(client, $"/api/v1/isins?q={prefix}99999", 2)).Select(Id).ShouldBe([$"{prefix}999999"]);
        (await WalkAsync(client, $"/api/v1/isins?q={prefix}zzzzz", 2)).Select(Id).ShouldBe([$"{prefix}ZZZZZZ"]);

        var cursor = await NextCursorAsync(client, $"/api/v1/isins?q={prefix}&cursor=&size=1");
        using var otherFilter = await client.GetAsync($"/api/v1/isins?q={prefix}&include_removed=true&cursor={cursor}&size=1", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(otherFilter, HttpStatusCode.BadRequest, "validation_failed"), "cursor").ShouldNotBeEmpty();
        using var badFilter = await client.GetAsync("/api/v1/isins?q=US-&cursor=", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(badFilter, HttpStatusCode.BadRequest, "validation_failed"), "q").ShouldNotBeEmpty();
    }

    /// <summary>A row's id (an ISIN's is its code).</summary>
    private static string Id(JsonElement row) => row.TryGetProperty("id", out var id) ? id.GetRawText() : row.GetProperty("isin").GetString()!;

    private static async Task<long> CreateTaskAsync(HttpClient client, string title, string status = "pending")
    {
        using var response = await client.PostAsJsonAsync("/api/v1/todos", new { title, status }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
    }

    private static async Task<string> NextCursorAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("meta").GetProperty("next_cursor").GetString()!;
    }

    /// <summary>Every row of the list, read page by page by number (the order a walk by cursor must reproduce).</summary>
    private static async Task<List<string>> ListByPageAsync(HttpClient client, string url)
    {
        var ids = new List<string>();
        for (var page = 1; ; page++)
        {
            using var response = await client.GetAsync($"{url}{(url.Contains('?') ? '&' : '?')}page={page}&size=100", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, url);
            var body = await response.JsonAsync();
            ids.AddRange(body.GetProperty("data").EnumerateArray().Select(Id));
            if (page >= body.GetProperty("meta").GetProperty("total_pages").GetInt32())
            {
                return ids;
            }
        }
    }

    private static Task<List<JsonElement>> WalkAsync(HttpClient client, string url, int size) => WalkFromAsync(client, url, "", size);

    /// <summary>
    /// Follows the list from <paramref name="cursor"/> to its end, by the Link header's rel="next" (which must carry the
    /// body's next_cursor), checking each keyset page's shape on the way.
    /// </summary>
    private static async Task<List<JsonElement>> WalkFromAsync(HttpClient client, string url, string cursor, int size)
    {
        var rows = new List<JsonElement>();
        var next = $"{url}{(url.Contains('?') ? '&' : '?')}cursor={cursor}&size={size}";
        for (var pages = 0; pages < 100; pages++)
        {
            using var response = await client.GetAsync(next, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, $"{next}: {text}");
            var body = JsonDocument.Parse(text).RootElement.Clone();
            var meta = body.GetProperty("meta");
            meta.EnumerateObject().Select(p => p.Name).ShouldBe(["size", "next_cursor"], "a keyset page has no total");
            meta.GetProperty("size").GetInt32().ShouldBe(size);
            var data = body.GetProperty("data").EnumerateArray().ToList();
            rows.AddRange(data);
            if (meta.GetProperty("next_cursor").ValueKind == JsonValueKind.Null)
            {
                response.Headers.Contains("Link").ShouldBeFalse("the last page has no next link");
                data.Count.ShouldBeLessThanOrEqualTo(size);
                return rows;
            }

            data.Count.ShouldBe(size);
            var link = response.Headers.GetValues("Link").Single();
            link.ShouldEndWith("; rel=\"next\"");
            next = link[1..link.IndexOf('>', StringComparison.Ordinal)];
            next.ShouldContain($"cursor={meta.GetProperty("next_cursor").GetString()}");
            next.ShouldStartWith(url.Split('?')[0] + "?");
        }

        throw new InvalidOperationException($"{url} did not end within 100 pages.");
    }

    public sealed class OnSqlite(SqliteFactory factory) : KeysetPagingTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : KeysetPagingTests(factory), IClassFixture<PostgresFactory>;
}
