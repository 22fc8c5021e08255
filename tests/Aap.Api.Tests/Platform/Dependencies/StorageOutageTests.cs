using System.Net;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform.Dependencies;

/// <summary>
/// The object store down under a running AAP: a private moto_server killed and started again, and a local storage
/// folder that cannot be written. Writes that need it are 503 <c>storage_unavailable</c> with Retry-After, counted,
/// and leave no row; once the store is back the same requests succeed.
/// </summary>
public sealed class StorageOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_the_S3_server_is_down_uploads_are_503_storage_unavailable_leave_no_row_and_succeed_once_it_is_back()
    {
        var bucket = $"aap-outage-{Guid.NewGuid():N}";
        await using var s3 = await PrivateS3.StartAsync(Ct);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "test");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "test");
        await using var host = new OutageFactory(DatabaseProvider.Sqlite);
        host.With("Storage:Provider", "S3").With("Storage:S3:ServiceUrl", s3.Endpoint).With("Storage:S3:ForcePathStyle", "true")
            .With("Storage:S3:CreateBucket", "true").With("Storage:S3:Bucket", bucket);
        await host.InitializeAsync();
        var appId = await host.AddAppAsync(points: 10);
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        using (var stored = await user.UploadAsync(Images.Screenshot()))
        {
            stored.StatusCode.ShouldBe(HttpStatusCode.Created, await stored.Content.ReadAsStringAsync(Ct));
        }

        var storedId = await host.DbAsync(db => db.Set<StoredFile>().Select(f => f.Id).SingleAsync(Ct));
        var before = await host.FailuresAsync("storage");

        await s3.StopAsync();

        await (await user.UploadAsync(Images.Screenshot())).ShouldBeUnavailableAsync("storage_unavailable", "storage");
        await (await user.CompleteAsync(appId, Images.Screenshot())).ShouldBeUnavailableAsync("storage_unavailable", "storage");
        await (await user.GetAsync($"/api/v1/files/{storedId}", Ct)).ShouldBeUnavailableAsync("storage_unavailable", "storage");
        // What needs no storage still works.
        using (var todos = await user.GetAsync("/api/v1/todos", Ct))
        {
            todos.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await host.FailuresAsync("storage") - before).ShouldBe(3);
        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct))).ShouldBe(1, "a refused upload leaves no row");
        (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(0);

        await s3.StartAgainAsync(bucket, Ct);

        using (var upload = await Outages.UntilAsync(() => user.UploadAsync(Images.Screenshot()), HttpStatusCode.Created))
        {
            upload.StatusCode.ShouldBe(HttpStatusCode.Created, await upload.Content.ReadAsStringAsync(Ct));
        }

        using (var completion = await user.CompleteAsync(appId, Images.Screenshot()))
        {
            completion.StatusCode.ShouldBe(HttpStatusCode.Created, await completion.Content.ReadAsStringAsync(Ct));
        }

        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct))).ShouldBe(3);
        (await host.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task A_storage_folder_that_cannot_be_written_is_503_storage_unavailable_and_leaves_no_row()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        using var user = await host.ClientForAsync(await host.RegisterAsync());
        var files = Path.Combine(host.DataDirectory, "files");
        if (Directory.Exists(files))
        {
            Directory.Delete(files, recursive: true);
        }

        // A file where the storage folder should be: creating the object's folder is an I/O error (root or not).
        await File.WriteAllTextAsync(files, "not a folder", Ct);

        await (await user.UploadAsync(Images.Screenshot())).ShouldBeUnavailableAsync("storage_unavailable", "storage");
        (await host.FailuresAsync("storage")).ShouldBe(1);
        (await host.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct))).ShouldBe(0);

        File.Delete(files);
        using var upload = await user.UploadAsync(Images.Screenshot());
        upload.StatusCode.ShouldBe(HttpStatusCode.Created, await upload.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData(28)] // ENOSPC
    [InlineData(unchecked((int)0x80070070))] // ERROR_DISK_FULL
    public void A_full_disk_is_507_insufficient_storage_not_503(int hresult)
    {
        var failure = DependencyFailures.Classify(new InvalidOperationException("wrapped", StorageUnavailableException.FromLocal(new IOException("No space left on device", hresult))!));

        failure.ShouldNotBeNull();
        (failure.Dependency, failure.Status, failure.Code).ShouldBe(("storage", 507, "insufficient_storage"));
        DependencyFailures.Classify(new IOException("No space left on device", hresult)).ShouldBeNull("a disk error of no store is not a storage outage");
    }
}
