using System.Net;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Features.Todos;
using Aap.Api.Platform.Persistence;
using System.Data.Common;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>
/// PostgreSQL stopped under a running AAP (a private cluster, <c>pg_ctl stop -m fast</c>) and started again: every
/// request in between is a 503 <c>database_unavailable</c> with Retry-After, counted, nothing half-written; after
/// the restart the same requests succeed without restarting AAP.
/// </summary>
public sealed class DatabaseOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_PostgreSQL_is_down_requests_are_503_database_unavailable_and_succeed_again_once_it_is_back()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        await using var host = new OutageFactory(DatabaseProvider.Postgres);
        host.With("ConnectionStrings:Default", postgres.ConnectionString);
        await host.InitializeAsync();
        var appId = await host.AddAppAsync(points: 10);
        var account = await host.RegisterAsync();
        using var user = await host.ClientForAsync(account);
        using var anonymous = host.Client();
        var files = Path.Combine(host.DataDirectory, "files");
        var before = await host.FailuresAsync("database");

        await postgres.StopAsync(Ct);

        (await (await user.GetAsync("/api/v1/me", Ct)).ShouldBeUnavailableAsync("database_unavailable", "database")).GetProperty("detail").GetString()!.ShouldContain("database");
        await (await user.GetAsync("/api/v1/todos", Ct)).ShouldBeUnavailableAsync("database_unavailable", "database");
        // A seed dialect's route, through the same exception handling.
        await (await user.GetAsync("/api/me/", Ct)).ShouldBeUnavailableAsync("database_unavailable", "database");
        await (await user.CreateTodoAsync("Written during the outage")).ShouldBeUnavailableAsync("database_unavailable", "database");
        await (await user.CompleteAsync(appId, Images.Screenshot())).ShouldBeUnavailableAsync("database_unavailable", "database");
        await (await user.UploadAsync(Images.Screenshot())).ShouldBeUnavailableAsync("database_unavailable", "database");
        // A page: the site's error page, with the same status and Retry-After.
        using (var page = await anonymous.PageAsync("/leaderboard"))
        {
            var html = await page.Content.ReadAsStringAsync(Ct);
            page.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, html);
            page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            page.Headers.RetryAfter?.Delta.ShouldBe(TimeSpan.FromSeconds(5));
            html.ShouldContain("Temporarily unavailable");
        }

        (await host.FailuresAsync("database") - before).ShouldBe(7);
        // Nothing stored for the refused completion and upload: no object without its row.
        (Directory.Exists(files) ? Directory.EnumerateFiles(files, "*", SearchOption.AllDirectories).ToList() : []).ShouldBeEmpty();

        await postgres.StartAgainAsync(Ct);

        using (var me = await Outages.UntilAsync(() => user.GetAsync("/api/v1/me", Ct), HttpStatusCode.OK))
        {
            me.StatusCode.ShouldBe(HttpStatusCode.OK, await me.Content.ReadAsStringAsync(Ct));
        }

        using (var todos = await user.GetAsync("/api/v1/todos", Ct))
        {
            todos.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var todo = await user.CreateTodoAsync("Written after the outage"))
        {
            todo.StatusCode.ShouldBe(HttpStatusCode.Created, await todo.Content.ReadAsStringAsync(Ct));
        }

        using (var completion = await user.CompleteAsync(appId, Images.Screenshot()))
        {
            completion.StatusCode.ShouldBe(HttpStatusCode.Created, await completion.Content.ReadAsStringAsync(Ct));
        }

        using (var upload = await user.UploadAsync(Images.Screenshot()))
        {
            upload.StatusCode.ShouldBe(HttpStatusCode.Created, await upload.Content.ReadAsStringAsync(Ct));
        }

        using (var page = await anonymous.PageAsync("/leaderboard"))
        {
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Only what was sent after the restart was written: one to-do, one completion, its proof and one file.
        (await host.DbAsync(db => db.Set<TodoTask>().IgnoreQueryFilters().Select(t => t.Title).ToListAsync(Ct))).ShouldBe(["Written after the outage"]);
        (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(1);
        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct))).ShouldBe(2);
        Directory.EnumerateFiles(files, "*", SearchOption.AllDirectories).Count(f => !f.Contains(".thumb.", StringComparison.Ordinal)).ShouldBe(2);
    }

    [Fact]
    public async Task A_completion_whose_database_goes_away_after_its_proof_is_stored_leaves_only_a_deleted_proof_that_the_purge_removes()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        var stop = new StopBefore("INSERT INTO app_completions", () => postgres.StopAsync(CancellationToken.None));
        await using var host = new OutageFactory(DatabaseProvider.Postgres);
        host.With("ConnectionStrings:Default", postgres.ConnectionString);
        host.WithServices(services => services.AddSingleton<IInterceptor>(stop));
        await host.InitializeAsync();
        var appId = await host.AddAppAsync(points: 10);
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        var files = Path.Combine(host.DataDirectory, "files");

        // The proof is stored (object and row), then PostgreSQL stops just before the completion is written.
        await (await user.CompleteAsync(appId, Images.Screenshot())).ShouldBeUnavailableAsync("database_unavailable", "database");
        stop.Fired.ShouldBeTrue();

        await postgres.StartAgainAsync(Ct);
        using (var mine = await Outages.UntilAsync(() => user.GetAsync("/api/v1/files", Ct), HttpStatusCode.OK))
        {
            // The proof of a completion that never was is not one of the user's files.
            (await mine.JsonAsync()).GetProperty("data").GetArrayLength().ShouldBe(0);
        }

        (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(0);
        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(f => f.DeletedAt == null, Ct))).ShouldBe(0);

        var held = await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Select(f => f.Key).SingleAsync(Ct));
        File.Exists(Path.Combine(files, held)).ShouldBeTrue();

        // The same completion goes through now.
        using (var completion = await user.CompleteAsync(appId, Images.Screenshot()))
        {
            completion.StatusCode.ShouldBe(HttpStatusCode.Created, await completion.Content.ReadAsStringAsync(Ct));
        }

        // The purge of deleted files (Jobs:Maintenance:DeletedFileRetentionDays, 7) removes the held proof, object and
        // row, and keeps the proof of the completion that was made.
        host.Clock.Advance(TimeSpan.FromDays(8));
        (await host.ServiceAsync<FileService, FilePurge>(service => service.PurgeAsync(TimeSpan.FromDays(7), Ct))).Purged.ShouldBe(1);
        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Select(f => f.Key).ToListAsync(Ct))).ShouldHaveSingleItem().ShouldNotBe(held);
        File.Exists(Path.Combine(files, held)).ShouldBeFalse();
        (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(1);
    }

    /// <summary>Runs <paramref name="stop"/> once, just before the first command whose text contains <paramref name="text"/> is sent.</summary>
    private sealed class StopBefore(string text, Func<Task> stop) : DbCommandInterceptor
    {
        private int _fired;

        public bool Fired => _fired == 1;

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains(text, StringComparison.Ordinal) && Interlocked.Exchange(ref _fired, 1) == 0)
            {
                await stop();
            }

            return result;
        }
    }
}
