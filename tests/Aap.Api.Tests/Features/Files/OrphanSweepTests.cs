using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Cli;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Features.Files;

/// <summary>
/// The <c>orphan-sweep</c> job and <c>aap files sweep-orphans</c>: an object that no file row names (a node died
/// between storing it and committing its row) is removed once older than <c>Files:OrphanGraceHours</c>; a younger
/// one, every object a row names (a file, its thumbnail, a completion's screenshot, a deleted file awaiting the
/// purge), and anything outside AAP's folders or of a name AAP does not make, are left alone.
/// </summary>
public abstract class OrphanSweepTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task Objects_without_a_row_go_once_older_than_the_grace_and_everything_a_row_names_stays()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        long deleted;
        using (var user = await factory.ClientForAsync(await factory.RegisterAsync()))
        {
            var upload = await UploadAsync(user, Images.Screenshot(), "image/png", "shot.png");
            deleted = await UploadAsync(user, Images.Pdf, "application/pdf", "gone.pdf");

            using (var completion = await user.CompleteAsync(await factory.AddAppAsync(), Images.Screenshot()))
            {
                completion.StatusCode.ShouldBe(HttpStatusCode.Created, await completion.Content.ReadAsStringAsync(Ct));
            }

            var screenshot = await factory.DbAsync(db => db.Set<StoredFile>().Where(f => f.Category == "screenshots").Select(f => f.Id).SingleAsync(Ct));
            (await factory.ThumbnailSettledAsync(upload)).ShouldBe(ThumbnailStatus.Ready);
            (await factory.ThumbnailSettledAsync(screenshot)).ShouldBe(ThumbnailStatus.Ready);
        }

        var named = await NamedKeysAsync(factory);
        named.Count.ShouldBe(5); // the upload and its thumbnail, the deleted file, the screenshot and its thumbnail
        var now = DateTime.UtcNow;
        var strayUpload = $"uploads/{now:yyyy}/{now:MM}/{Guid.NewGuid():N}.png";
        var strayThumbnail = $"screenshots/{now:yyyy}/{now:MM}/{Guid.NewGuid():N}.thumb.jpg";
        var notAapsName = "uploads/README.txt";
        var outside = $"backups/{now:yyyy}/{now:MM}/{Guid.NewGuid():N}.png";
        foreach (var key in new[] { strayUpload, strayThumbnail, notAapsName, outside })
        {
            await PutAsync(factory, key);
        }

        // The daily schedule paused, so that moving the clock past 03:30 does not sweep before the runs the test makes.
        using (var admin = await factory.ClientForAsync(await factory.CreateAdminAsync()))
        using (var pause = await admin.PostAsync("/api/v1/admin/jobs/orphan-sweep/pause", null, Ct))
        {
            pause.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        // Younger than the grace (24 h): an upload still in flight might own them, so they stay.
        factory.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddHours(23));
        // Deleted just now, as the clock goes: the purge's to remove after its retention, not the sweep's.
        var deletedAt = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.DbAsync(db => db.Set<StoredFile>().Where(f => f.Id == deleted).ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, deletedAt), Ct));
        var young = await RunJobAsync(factory);
        young.GetProperty("status").GetString().ShouldBe("succeeded", young.ToString());
        young.GetProperty("items").GetInt64().ShouldBe(0);
        (await ExistingAsync(factory, [strayUpload, strayThumbnail])).ShouldBe([strayUpload, strayThumbnail]);

        // Older than the grace: a dry run counts them and removes nothing.
        factory.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddHours(25));
        var (exitCode, output) = await SweepCommandAsync(factory, "--dry-run");
        exitCode.ShouldBe(0);
        output.ShouldStartWith("Found 2 orphaned object(s) older than 24 h", Case.Sensitive, output);
        output.ShouldContain("dry run: nothing removed");
        (await ExistingAsync(factory, [strayUpload, strayThumbnail])).ShouldBe([strayUpload, strayThumbnail]);

        var swept = await RunJobAsync(factory);
        swept.GetProperty("status").GetString().ShouldBe("succeeded", swept.ToString());
        swept.GetProperty("items").GetInt64().ShouldBe(2);
        (await ExistingAsync(factory, [strayUpload, strayThumbnail, notAapsName, outside])).ShouldBe([notAapsName, outside]);
        (await ExistingAsync(factory, named)).ShouldBe(named);
        (await ListedAsync(factory)).ShouldBe([.. named.Append(notAapsName).Order(StringComparer.Ordinal)]);

        var (again, repeat) = await SweepCommandAsync(factory);
        again.ShouldBe(0);
        repeat.ShouldStartWith("Found 0 orphaned object(s)", Case.Sensitive, repeat);
    }

    [Fact]
    public async Task The_grace_is_a_setting_of_at_least_an_hour()
    {
        await using var factory = NewFactory();
        factory.With("Files:OrphanGraceHours", "0");
        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await factory.InitializeAsync());
        error.Message.ShouldContain("OrphanGraceHours");
    }

    private static async Task<long> UploadAsync(HttpClient client, byte[] content, string type, string name)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var form = new MultipartFormDataContent { { file, "file", name } };
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>Every key a file row names (deleted rows included), sorted.</summary>
    private static async Task<List<string>> NamedKeysAsync(AapFactory factory)
    {
        var rows = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Select(f => new { f.Key, f.ThumbnailKey }).ToListAsync(Ct));
        return [.. rows.SelectMany(r => new[] { r.Key, r.ThumbnailKey }).OfType<string>().Order(StringComparer.Ordinal)];
    }

    /// <summary>An object stored straight into the store, as a node that died before its row would leave it.</summary>
    private static async Task PutAsync(AapFactory factory, string key)
    {
        var spool = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(spool, Images.Screenshot(), Ct);
            await factory.Services.GetRequiredService<IFileStore>().PutAsync(key, spool, "image/png", Ct);
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>Which of <paramref name="keys"/> the store still has, in their order.</summary>
    private static async Task<List<string>> ExistingAsync(AapFactory factory, IEnumerable<string> keys)
    {
        var store = factory.Services.GetRequiredService<IFileStore>();
        var found = new List<string>();
        foreach (var key in keys)
        {
            var opened = await store.OpenAsync(key, Ct);
            if (opened is not null)
            {
                await opened.Content.DisposeAsync();
                found.Add(key);
            }
        }

        return found;
    }

    /// <summary>Everything the store lists under AAP's folders, sorted.</summary>
    private static async Task<List<string>> ListedAsync(AapFactory factory)
    {
        var store = factory.Services.GetRequiredService<IFileStore>();
        var keys = new List<string>();
        foreach (var prefix in new[] { "uploads/", "screenshots/" })
        {
            await foreach (var listed in store.ListAsync(prefix, Ct))
            {
                keys.Add(listed.Key);
            }
        }

        return [.. keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Runs the job through the admin API, signed in at the factory's clock, and waits for its run.</summary>
    private static async Task<System.Text.Json.JsonElement> RunJobAsync(AapFactory factory)
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        // A run may be under way (the node's first, or one due when the clock moved): run now once it has ended.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var run = await admin.PostAsync("/api/v1/admin/jobs/orphan-sweep/run", null, Ct);
            if (run.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, Ct);
                continue;
            }

            run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            return await admin.FinishedRunAsync("orphan-sweep", (await run.JsonAsync()).GetProperty("data").GetProperty("run_id").GetString()!);
        }
    }

    private static async Task<(int ExitCode, string Output)> SweepCommandAsync(AapFactory factory, params string[] args)
    {
        var root = new RootCommand { FilesCommand.Create(factory.Services) };
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exitCode = await root.Parse(["files", "sweep-orphans", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, Ct);
        error.ToString().ShouldBeEmpty();
        return (exitCode, output.ToString());
    }

    public sealed class OnLocalDisk : OrphanSweepTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnS3 : OrphanSweepTests
    {
        private protected override AapFactory NewFactory() => new S3Factory();
    }

    public sealed class OnPostgres : OrphanSweepTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }
}
