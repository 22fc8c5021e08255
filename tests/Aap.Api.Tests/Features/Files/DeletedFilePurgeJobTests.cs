using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Features.Files;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Files;

/// <summary>The scheduled <c>deleted-file-purge</c>: files deleted longer ago than the retention are removed, newer ones wait.</summary>
public abstract class DeletedFilePurgeJobTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task The_purge_job_removes_files_deleted_before_the_retention_and_reports_how_many()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var old = await UploadAsync(client, "old.png");
        var recent = await UploadAsync(client, "recent.png");
        var kept = await UploadAsync(client, "kept.png");
        foreach (var id in new[] { old, recent })
        {
            using var delete = await client.DeleteAsync($"/api/v1/files/{id}", Ct);
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var longAgo = factory.Clock.GetUtcNow().UtcDateTime.AddDays(-8);
        await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Where(f => f.Id == old).ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, longAgo), Ct));

        using var run = await admin.PostAsync("/api/v1/admin/jobs/deleted-file-purge/run", null, Ct);
        run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var finished = await admin.FinishedRunAsync("deleted-file-purge", (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!);

        finished.GetProperty("status").GetString().ShouldBe("succeeded", finished.ToString());
        finished.GetProperty("items").GetInt64().ShouldBe(1);
        var left = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Where(f => f.Id == old || f.Id == recent || f.Id == kept).Select(f => f.Id).OrderBy(i => i).ToListAsync(Ct));
        left.ShouldBe([recent, kept]);
    }

    private static async Task<long> UploadAsync(HttpClient client, string name)
    {
        var file = new ByteArrayContent(Images.Screenshot());
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent { { file, "file", name } };
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    public sealed class OnSqlite : DeletedFilePurgeJobTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : DeletedFilePurgeJobTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }
}
