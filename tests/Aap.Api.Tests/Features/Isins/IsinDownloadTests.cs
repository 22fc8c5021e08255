using System.Net;
using System.Text;
using System.Text.Json;
using Aap.Api.Features.Isins;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Isins;

/// <summary>
/// The daily ISIN download through HTTP on both providers: a local server serves the files, the job is run with
/// run-now and its run read back from the history, and the table and the read API are checked after each run.
/// </summary>
public abstract class IsinDownloadTests
{
    private const string Job = "isin-download";
    private const string AppleLei = "HWUPKR0MPOU8FGXBT394";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Listed =
    [
        "US0378331005", "DE000BAY0017", "GB0002634946", "US5949181045", "AU0000XVGZA3",
    ];

    private protected abstract AapFactory NewFactory();

    private async Task<(AapFactory Factory, IsinSource Source, HttpClient Admin, TestAccount AdminAccount)> StartAsync()
    {
        var source = await IsinSource.StartAsync();
        var factory = NewFactory()
            .With("Jobs:Isin:SourceUrl", source.Url.ToString())
            .With("Jobs:Isin:RetryAttempts", "1")
            .With("Jobs:Isin:RetryDelayMilliseconds", "10")
            .With("Jobs:Isin:TimeoutSeconds", "2")
            .With("Jobs:Isin:MaxInvalidPercent", "40")
            .With("Jobs:RetryAttempts", "0");
        await factory.InitializeAsync();
        var account = await factory.CreateAdminAsync();
        return (factory, source, await factory.ClientForAsync(account), account);
    }

    /// <summary>GLEIF's shape: LEI,ISIN, here with two bad rows (a wrong check digit, a short ISIN) among the five good ones.</summary>
    private static byte[] FirstFile() => IsinSource.Zip(IsinSource.Csv("LEI,ISIN",
    [
        $"{AppleLei},US0378331005",
        $"{IsinSource.MakeLei(1)},DE000BAY0017",
        $"{IsinSource.MakeLei(2)},US0378331006",
        $"{IsinSource.MakeLei(3)},GB0002634946",
        $"{IsinSource.MakeLei(4)},US5949181045",
        $"{IsinSource.MakeLei(5)},US03783310",
        $"{IsinSource.MakeLei(6)},AU0000XVGZA3",
    ]));

    [Fact]
    public async Task A_good_zip_is_loaded_an_unchanged_one_is_not_loaded_again_and_a_changed_one_marks_what_left()
    {
        var (factory, source, admin, account) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        source.Serve(IsinSource.File(FirstFile(), "\"v1\""));
        var firstLoad = factory.Clock.GetUtcNow().UtcDateTime;

        var first = await RunAsync(admin);

        first.GetProperty("status").GetString().ShouldBe("succeeded", first.ToString());
        first.GetProperty("items").GetInt64().ShouldBe(5);
        var isins = await factory.DbAsync(db => db.Set<Isin>().OrderBy(i => i.Code).ToListAsync(Ct));
        isins.Select(i => i.Code).ShouldBe(Listed.Order(StringComparer.Ordinal));
        isins.ShouldAllBe(i => i.RemovedAt == null && i.FirstSeen == firstLoad && i.LastSeen == firstLoad);
        isins.Single(i => i.Code == "US0378331005").Lei.ShouldBe(AppleLei);
        isins.Single(i => i.Code == "DE000BAY0017").Country.ShouldBe("DE");
        var state = await DownloadStateAsync(admin);
        state.GetProperty("outcome").GetString().ShouldBe("loaded");
        state.GetProperty("rows").GetInt64().ShouldBe(7);
        state.GetProperty("invalid_rows").GetInt64().ShouldBe(2);
        state.GetProperty("etag").GetString().ShouldBe("\"v1\"");
        state.GetProperty("listed").GetInt64().ShouldBe(5);

        // Totals of pages by number are kept per filter until the next load: read now, and again after the change below.
        (await TotalAsync(admin, "?country=gb")).ShouldBe(1);
        (await TotalAsync(admin, "?include_removed=true")).ShouldBe(5);

        // The same file again: the stored ETag goes back, the server answers 304, nothing is loaded.
        factory.Clock.Advance(TimeSpan.FromHours(24));
        admin.Dispose();
        admin = await factory.ClientForAsync(account); // the access token expired with the day that passed
        var unchanged = await RunAsync(admin);
        unchanged.GetProperty("status").GetString().ShouldBe("succeeded", unchanged.ToString());
        unchanged.GetProperty("items").GetInt64().ShouldBe(0);
        source.IfNoneMatch.ToArray().ShouldBe(["", "\"v1\""]);
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(i => i.LastSeen == firstLoad, Ct))).ShouldBe(5);
        (await DownloadStateAsync(admin)).GetProperty("outcome").GetString().ShouldBe("unchanged");

        // A changed file: GB0002634946 has left, FR0000120271 is new, Apple's LEI changed.
        factory.Clock.Advance(TimeSpan.FromHours(24));
        admin.Dispose();
        admin = await factory.ClientForAsync(account);
        var secondLoad = factory.Clock.GetUtcNow().UtcDateTime;
        source.Serve(IsinSource.File(IsinSource.Zip(IsinSource.Csv("LEI,ISIN",
        [
            $"{IsinSource.MakeLei(9)},US0378331005",
            $"{IsinSource.MakeLei(1)},DE000BAY0017",
            $"{IsinSource.MakeLei(4)},US5949181045",
            $"{IsinSource.MakeLei(6)},AU0000XVGZA3",
            $"{IsinSource.MakeLei(7)},FR0000120271",
        ])), "\"v2\""));

        var changed = await RunAsync(admin);

        changed.GetProperty("status").GetString().ShouldBe("succeeded", changed.ToString());
        changed.GetProperty("items").GetInt64().ShouldBe(5);
        var after = await factory.DbAsync(db => db.Set<Isin>().ToDictionaryAsync(i => i.Code, Ct));
        after.Count.ShouldBe(6);
        after["GB0002634946"].RemovedAt.ShouldBe(secondLoad);
        after["GB0002634946"].LastSeen.ShouldBe(firstLoad);
        after["FR0000120271"].FirstSeen.ShouldBe(secondLoad);
        after["US0378331005"].Lei.ShouldBe(IsinSource.MakeLei(9));
        after["US0378331005"].FirstSeen.ShouldBe(firstLoad);
        after["US0378331005"].LastSeen.ShouldBe(secondLoad);
        after.Values.Where(i => i.Code != "GB0002634946").ShouldAllBe(i => i.RemovedAt == null);

        // The read API: the list shows what is listed; a removed ISIN is still found, with removed_at.
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using (var list = await user.GetAsync("/api/v1/isins?size=2", Ct))
        {
            list.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = await list.JsonAsync();
            body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(5);
            body.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("isin").GetString()).ShouldBe(["AU0000XVGZA3", "DE000BAY0017"]);
            list.Headers.GetValues("Link").Single().ShouldContain("rel=\"next\"");
        }

        (await TotalAsync(user, "?country=GB")).ShouldBe(0);
        (await TotalAsync(user, "?include_removed=true")).ShouldBe(6);
        (await ListAsync(user, "?country=us")).ShouldBe(["US0378331005", "US5949181045"]);
        (await ListAsync(user, "?q=us03")).ShouldBe(["US0378331005"]);
        (await ListAsync(user, $"?q={IsinSource.MakeLei(7)}")).ShouldBe(["FR0000120271"]);
        (await ListAsync(user, "?country=GB")).ShouldBeEmpty();
        (await ListAsync(user, "?country=GB&include_removed=true")).ShouldBe(["GB0002634946"]);
        using (var removed = await user.GetAsync("/api/v1/isins/GB0002634946", Ct))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.OK);
            var isin = (await removed.JsonAsync()).GetProperty("data");
            isin.GetProperty("removed_at").GetDateTime().ShouldBe(secondLoad);
            isin.GetProperty("country").GetString().ShouldBe("GB");
        }

        using (var apple = await user.GetAsync("/api/v1/isins/us0378331005", Ct))
        {
            apple.StatusCode.ShouldBe(HttpStatusCode.OK);
            var isin = (await apple.JsonAsync()).GetProperty("data");
            isin.GetProperty("isin").GetString().ShouldBe("US0378331005");
            isin.GetProperty("lei").GetString().ShouldBe(IsinSource.MakeLei(9));
            isin.GetProperty("removed_at").ValueKind.ShouldBe(JsonValueKind.Null);
        }

        (await factory.DbAsync(db => db.Set<JobRun>().Where(r => r.Job == Job).OrderBy(r => r.QueuedAt).Select(r => r.Items).ToListAsync(Ct)))
            .ShouldBe([5L, 0L, 5L]);
        admin.Dispose();
    }

    [Fact]
    public async Task A_corrupt_truncated_empty_or_gutted_file_fails_the_run_and_keeps_the_list()
    {
        var (factory, source, admin, _) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        using var ___ = admin;
        var good = FirstFile();
        source.Serve(IsinSource.File(good, "\"v1\""));
        (await RunAsync(admin)).GetProperty("items").GetInt64().ShouldBe(5);
        var before = await SnapshotAsync(factory);

        var corrupt = (byte[])good.Clone();
        for (var i = 40; i < corrupt.Length - 120; i++)
        {
            corrupt[i] ^= 0x5A; // the entry's compressed bytes, past the local header: the central directory still reads
        }

        var attempts = new (string What, Action Serve, string Error)[]
        {
            ("corrupt ZIP", () => source.Serve(IsinSource.File(corrupt, "\"corrupt\"")), "InvalidDataException"),
            ("ZIP cut in half", () => source.Serve(IsinSource.File(good[..(good.Length / 2)], "\"half\"")), "InvalidDataException"),
            ("connection dropped mid-body", () => source.Serve(IsinSource.CutShort(good)), "Exception"),
            ("header only", () => source.Serve(IsinSource.File(IsinSource.Zip("LEI,ISIN\n"), "\"empty\"")), "The file has no rows"),
            ("no ISIN column", () => source.Serve(IsinSource.File(IsinSource.Zip("LEI,CUSIP\nX,Y\n"), "\"cusip\"")), "no ISIN column"),
            ("all rows invalid", () => source.Serve(IsinSource.File(IsinSource.Zip("ISIN\nUS0378331006\nXX\n"), "\"bad\"")), "None of the file's 2 rows"),
            ("four of five gone", () => source.Serve(IsinSource.File(IsinSource.Zip("ISIN\nUS0378331005\n"), "\"gutted\"")), "would remove 4 of the 5"),
        };

        foreach (var (what, serve, error) in attempts)
        {
            serve();
            var run = await RunAsync(admin, what);
            run.GetProperty("status").GetString().ShouldBe("failed", $"{what}: {run}");
            run.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain(error, Case.Sensitive, what);
            run.GetProperty("items").ValueKind.ShouldBe(JsonValueKind.Null, what);
            (await SnapshotAsync(factory)).ShouldBe(before, what);
            var state = await DownloadStateAsync(admin);
            state.GetProperty("outcome").GetString().ShouldBe("failed", what);
            state.GetProperty("etag").GetString().ShouldBe("\"v1\"", what);
        }

        // The good file comes back: its ETag is still the stored one, so it is a 304 and the list stays.
        source.Serve(IsinSource.File(good, "\"v1\""));
        (await RunAsync(admin)).GetProperty("items").GetInt64().ShouldBe(0);
        (await SnapshotAsync(factory)).ShouldBe(before);
    }

    [Fact]
    public async Task A_server_error_is_retried_and_a_slow_server_times_out()
    {
        var (factory, source, admin, _) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        using var ___ = admin;
        source.Serve(IsinSource.File(FirstFile()));
        source.ServeOnce(IsinSource.Status(500));

        var retried = await RunAsync(admin);

        retried.GetProperty("status").GetString().ShouldBe("succeeded", retried.ToString());
        retried.GetProperty("items").GetInt64().ShouldBe(5);
        source.Requests.ShouldBe(2);

        source.Serve(IsinSource.Slow(TimeSpan.FromSeconds(30), FirstFile()));
        var slow = await RunAsync(admin);
        slow.GetProperty("status").GetString().ShouldBe("failed", slow.ToString());
        slow.GetProperty("error").GetString().ShouldNotBeNull().ShouldBe($"TimeoutException: {source.Url} did not answer within Jobs:Isin:TimeoutSeconds (2 s), 2 attempts.");
        source.Requests.ShouldBe(4); // the first try and one retry
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(Ct))).ShouldBe(5);

        source.Serve(IsinSource.Status(503));
        var down = await RunAsync(admin);
        down.GetProperty("status").GetString().ShouldBe("failed", down.ToString());
        down.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("503");
        source.Requests.ShouldBe(6);
    }

    [Fact]
    public async Task A_plain_csv_and_a_gzip_with_an_isin_column_are_loaded_too()
    {
        var (factory, source, admin, _) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        using var ___ = admin;
        var plain = Enumerable.Range(1, 200).Select(n => IsinSource.MakeIsin("US", n)).ToList();
        source.Serve(IsinSource.File(Encoding.UTF8.GetBytes(IsinSource.Csv("Name,isin", plain.Select(i => $"\"Issuer, {i}\",{i}"))), contentType: "text/csv"));

        var csv = await RunAsync(admin);

        csv.GetProperty("status").GetString().ShouldBe("succeeded", csv.ToString());
        csv.GetProperty("items").GetInt64().ShouldBe(200);
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(i => i.Lei == null && i.Country == "US", Ct))).ShouldBe(200);

        var gzipped = Enumerable.Range(101, 200).Select(n => IsinSource.MakeIsin("US", n)).ToList();
        source.Serve(IsinSource.File(IsinSource.Gzip(IsinSource.Csv("ISIN,LEI", gzipped.Select(i => $"{i},{AppleLei}"))), contentType: "application/gzip"));

        var gzip = await RunAsync(admin);

        gzip.GetProperty("status").GetString().ShouldBe("succeeded", gzip.ToString());
        gzip.GetProperty("items").GetInt64().ShouldBe(200);
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(i => i.RemovedAt == null && i.Lei == AppleLei, Ct))).ShouldBe(200);
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(i => i.RemovedAt != null, Ct))).ShouldBe(100);
        (await DownloadStateAsync(admin)).GetProperty("invalid_rows").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task A_source_with_Last_Modified_and_no_ETag_is_asked_with_If_Modified_Since_and_its_304_loads_nothing()
    {
        var (factory, source, admin, account) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        var published = new DateTimeOffset(2026, 1, 15, 6, 0, 0, TimeSpan.Zero);
        source.Serve(IsinSource.File(FirstFile(), etag: null, lastModified: published));
        var firstLoad = factory.Clock.GetUtcNow().UtcDateTime;

        var first = await RunAsync(admin);

        first.GetProperty("status").GetString().ShouldBe("succeeded", first.ToString());
        first.GetProperty("items").GetInt64().ShouldBe(5);
        var state = await DownloadStateAsync(admin);
        state.GetProperty("etag").ValueKind.ShouldBe(JsonValueKind.Null);
        state.GetProperty("last_modified").GetString().ShouldBe("Thu, 15 Jan 2026 06:00:00 GMT");
        var loaded = await SnapshotAsync(factory);

        factory.Clock.Advance(TimeSpan.FromHours(24));
        admin.Dispose();
        admin = await factory.ClientForAsync(account);
        var unchanged = await RunAsync(admin);

        unchanged.GetProperty("status").GetString().ShouldBe("succeeded", unchanged.ToString());
        unchanged.GetProperty("items").GetInt64().ShouldBe(0);
        source.IfModifiedSince.ToArray().ShouldBe(["", "Thu, 15 Jan 2026 06:00:00 GMT"]);
        source.IfNoneMatch.ToArray().ShouldBe(["", ""]);
        source.Statuses.ToArray().ShouldBe([200, 304]);
        (await SnapshotAsync(factory)).ShouldBe(loaded);
        (await factory.DbAsync(db => db.Set<Isin>().CountAsync(i => i.LastSeen == firstLoad, Ct))).ShouldBe(5);
        var after = await DownloadStateAsync(admin);
        after.GetProperty("outcome").GetString().ShouldBe("unchanged");
        after.GetProperty("loaded_at").GetDateTime().ShouldBe(firstLoad);
        admin.Dispose();
    }

    [Fact]
    public async Task A_malformed_isin_is_a_400_that_says_why_and_an_unknown_one_a_404()
    {
        var (factory, source, admin, _) = await StartAsync();
        await using var _ = factory;
        await using var __ = source;
        using var ___ = admin;
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());

        foreach (var (isin, why) in new[]
                 {
                     ("US037833100", "An ISIN has 12 characters; this one has 11."),
                     ("US0378331006", "The check digit is wrong: US037833100 needs check digit 5, not 6."),
                     ("12XYZ", "An ISIN has 12 characters; this one has 5."),
                     ("U10378331005", "An ISIN starts with two capital letters (the country code)."),
                 })
        {
            using var response = await user.GetAsync($"/api/v1/isins/{isin}", Ct);
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, IsinProblemCodes.InvalidIsin);
            problem.GetProperty("detail").GetString().ShouldBe(why);
            Problem.FieldErrors(problem, "isin").ShouldBe([why]);
        }

        using (var unknown = await user.GetAsync("/api/v1/isins/US0378331005", Ct))
        {
            await Problem.ReadAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }

        using (var badCountry = await user.GetAsync("/api/v1/isins?country=U1", Ct))
        {
            var problem = await Problem.ReadAsync(badCountry, HttpStatusCode.BadRequest, "validation_failed");
            Problem.FieldErrors(problem, "country").Single().ShouldContain("two letters");
        }

        using (var badQuery = await user.GetAsync("/api/v1/isins?q=US-03", Ct))
        {
            var problem = await Problem.ReadAsync(badQuery, HttpStatusCode.BadRequest, "validation_failed");
            Problem.FieldErrors(problem, "q").Single().ShouldContain("start of an ISIN");
        }

        using (var anonymous = await factory.Client().GetAsync("/api/v1/isins", Ct))
        {
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var notAdmin = await user.GetAsync("/api/v1/admin/isins/download", Ct))
        {
            notAdmin.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        using var jobs = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        var job = (await jobs.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == Job);
        job.GetProperty("schedule").GetString().ShouldBe("0 30 4 * * ?");
        source.Requests.ShouldBe(0);
    }

    private static async Task<JsonElement> RunAsync(HttpClient admin, string? what = null)
    {
        using var run = await admin.PostAsync($"/api/v1/admin/jobs/{Job}/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!;
        try
        {
            return await admin.FinishedRunAsync(Job, id);
        }
        catch (TimeoutException timeout) when (what is not null)
        {
            throw new TimeoutException($"{what}: {timeout.Message}", timeout);
        }
    }

    private static async Task<JsonElement> DownloadStateAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/api/v1/admin/isins/download", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("data");
    }

    private static async Task<List<string>> ListAsync(HttpClient user, string query)
    {
        using var response = await user.GetAsync($"/api/v1/isins{query}", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(i => i.GetProperty("isin").GetString()!).ToList();
    }

    private static async Task<long> TotalAsync(HttpClient user, string query)
    {
        using var response = await user.GetAsync($"/api/v1/isins{query}", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return (await response.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64();
    }

    private static async Task<List<string>> SnapshotAsync(AapFactory factory) =>
        (await factory.DbAsync(db => db.Set<Isin>().AsNoTracking().OrderBy(i => i.Code).ToListAsync(Ct)))
        .Select(i => $"{i.Code}|{i.Lei}|{i.FirstSeen:O}|{i.LastSeen:O}|{i.RemovedAt:O}").ToList();

    public sealed class OnSqlite : IsinDownloadTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : IsinDownloadTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }
}
