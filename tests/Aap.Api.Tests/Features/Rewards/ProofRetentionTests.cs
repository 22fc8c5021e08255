using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>A completion's screenshot stays as long as the completion: not deletable, not purged, readable by admins.</summary>
public abstract class ProofRetentionTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_owner_cannot_delete_the_proof_of_a_completion_and_the_409_names_the_completion()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var (completionId, fileId) = await CompleteAsync(user);

        using var byOwner = await user.DeleteAsync($"/api/v1/files/{fileId}", Ct);
        using var byAdmin = await admin.DeleteAsync($"/api/v1/files/{fileId}", Ct);

        var problem = await Problem.ReadAsync(byOwner, HttpStatusCode.Conflict, "file_in_use");
        problem.GetProperty("detail").GetString()!.ShouldContain($"completion {completionId}");
        var usedBy = problem.GetProperty("used_by").EnumerateArray().Single();
        usedBy.GetProperty("kind").GetString().ShouldBe("completion");
        usedBy.GetProperty("id").GetInt64().ShouldBe(completionId);
        await Problem.ReadAsync(byAdmin, HttpStatusCode.Conflict, "file_in_use");
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().SingleAsync(f => f.Id == fileId, Ct))).DeletedAt.ShouldBeNull();
        using var download = await user.GetAsync($"/api/v1/files/{fileId}", Ct);
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Once_its_completion_is_deleted_the_proof_can_be_deleted()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var (completionId, fileId) = await CompleteAsync(user);

        using var removeCompletion = await admin.DeleteAsync($"/api/v1/admin/completions/{completionId}", Ct);
        using var delete = await user.DeleteAsync($"/api/v1/files/{fileId}", Ct);

        removeCompletion.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().SingleAsync(f => f.Id == fileId, Ct))).DeletedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task An_admin_still_opens_a_soft_deleted_proof_but_not_other_deleted_files()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var screenshot = Images.Screenshot();
        var (completionId, proofId) = await CompleteAsync(user, screenshot);
        var otherId = await UploadAsync(user);
        using (var deleteOther = await user.DeleteAsync($"/api/v1/files/{otherId}", Ct))
        {
            deleteOther.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        // A proof deleted before deletion was refused, or by a delete racing the completion that took it.
        await SoftDeleteAsync(proofId);

        using var review = await admin.GetAsync($"/api/v1/admin/completions/{completionId}", Ct);
        var url = (await review.JsonAsync()).GetProperty("data").GetProperty("screenshot").GetString();
        using var asAdmin = await admin.GetAsync(url, Ct);
        using var link = await admin.GetAsync($"{url}/link", Ct);
        using var viaLink = await factory.Client().GetAsync((await link.JsonAsync()).GetProperty("data").GetProperty("url").GetString(), Ct);
        using var asOwner = await user.GetAsync(url, Ct);
        using var otherAsAdmin = await admin.GetAsync($"/api/v1/files/{otherId}", Ct);

        asAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await asAdmin.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(screenshot);
        viaLink.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viaLink.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(screenshot);
        await Problem.ReadAsync(asOwner, HttpStatusCode.NotFound, "not_found");
        await Problem.ReadAsync(otherAsAdmin, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_purge_keeps_a_deleted_proof_and_removes_the_other_deleted_files_on_every_run()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var (_, proofId) = await CompleteAsync(user);
        var others = new[] { await UploadAsync(user), await UploadAsync(user) };
        await SoftDeleteAsync(proofId);
        foreach (var id in others)
        {
            using var delete = await user.DeleteAsync($"/api/v1/files/{id}", Ct);
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var first = await factory.ServiceAsync<FileService, FilePurge>(files => files.PurgeAsync(TimeSpan.Zero, Ct));
        var second = await factory.ServiceAsync<FileService, FilePurge>(files => files.PurgeAsync(TimeSpan.Zero, Ct));

        first.Purged.ShouldBeGreaterThanOrEqualTo(2);
        first.Kept.ShouldBeGreaterThanOrEqualTo(1);
        first.Failed.ShouldBe(0);
        second.Purged.ShouldBe(0);
        second.Failed.ShouldBe(0);
        var remaining = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Where(f => f.Id == proofId || others.Contains(f.Id)).Select(f => f.Id).ToListAsync(Ct));
        remaining.ShouldBe([proofId]);
        (await ObjectExistsAsync(factory, proofId)).ShouldBeTrue();
    }

    [Fact]
    public async Task When_the_database_refuses_a_row_the_purge_logs_it_keeps_its_content_and_purges_the_rest()
    {
        // Without Rewards' answer to "who needs this file?", only the foreign key protects the proof.
        await using var blind = NewFactory().WithServices(services => services.RemoveAll<IFileReferences>());
        await blind.InitializeAsync();
        using var user = await blind.ClientForAsync(await blind.RegisterAsync());
        var (_, proofId) = await CompleteAsync(blind, user);
        var otherId = await UploadAsync(user);
        await SoftDeleteAsync(blind, proofId);
        using (var delete = await user.DeleteAsync($"/api/v1/files/{otherId}", Ct))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var purge = await blind.ServiceAsync<FileService, FilePurge>(files => files.PurgeAsync(TimeSpan.Zero, Ct));

        purge.ShouldBe(new FilePurge(Purged: 1, Kept: 0, Failed: 1));
        (await blind.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Select(f => f.Id).ToListAsync(Ct))).ShouldBe([proofId]);
        (await ObjectExistsAsync(blind, proofId)).ShouldBeTrue("the row is removed before the content, in one transaction");
    }

    private AapFactory NewFactory() => factory.Provider == DatabaseProvider.Postgres ? new PostgresFactory() : new SqliteFactory();

    private Task<(long CompletionId, long FileId)> CompleteAsync(HttpClient client, byte[]? screenshot = null) => CompleteAsync(factory, client, screenshot);

    private static async Task<(long CompletionId, long FileId)> CompleteAsync(AapFactory host, HttpClient client, byte[]? screenshot = null)
    {
        using var response = await client.CompleteAsync(await host.AddAppAsync(points: 5), screenshot ?? Images.Screenshot());
        var data = (await response.JsonAsync()).GetProperty("data");
        response.StatusCode.ShouldBe(HttpStatusCode.Created, data.ToString());
        return (data.GetProperty("id").GetInt64(), long.Parse(data.GetProperty("screenshot").GetString()!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<long> UploadAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/api/v1/files", new MultipartFormDataContent { { Images.Part(Images.Screenshot()), "file", "other.png" } }, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    private Task<int> SoftDeleteAsync(long fileId) => SoftDeleteAsync(factory, fileId);

    private static Task<int> SoftDeleteAsync(AapFactory host, long fileId) => host.DbAsync(db =>
        db.Set<StoredFile>().Where(f => f.Id == fileId).ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)), Ct));

    private static async Task<bool> ObjectExistsAsync(AapFactory host, long fileId)
    {
        var key = await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Where(f => f.Id == fileId).Select(f => f.Key).SingleAsync(Ct));
        await using var scope = host.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<IFileStore>().OpenAsync(key, Ct);
        if (stored is null)
        {
            return false;
        }

        await stored.Content.DisposeAsync();
        return true;
    }

    public sealed class OnSqlite(SqliteFactory factory) : ProofRetentionTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : ProofRetentionTests(factory), IClassFixture<PostgresFactory>;
}
