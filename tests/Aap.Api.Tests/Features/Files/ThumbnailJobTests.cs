using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Aap.Api.Tests.Features.Files;

/// <summary>
/// The queued job <c>file-thumbnails</c>: an upload wakes it, it makes a bounded JPEG beside the original (local
/// store or S3), and an image it cannot read fails only its own thumbnail.
/// </summary>
public abstract class ThumbnailJobTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    [Fact]
    public async Task A_completion_screenshot_gets_a_bounded_thumbnail_from_the_queued_job_after_the_upload()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var appId = await factory.AddAppAsync();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var stranger = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var completed = await user.CompleteAsync(appId, Picture(1200, 800));
        completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
        var fileId = FileIdOf((await completed.JsonAsync()).GetProperty("data"));

        var status = await factory.ThumbnailSettledAsync(fileId);
        status.ShouldBe(ThumbnailStatus.Ready);
        using var thumbnail = await user.GetAsync($"/api/v1/files/{fileId}/thumbnail", Ct);
        thumbnail.StatusCode.ShouldBe(HttpStatusCode.OK);
        thumbnail.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
        using (var image = Image.Load(await thumbnail.Content.ReadAsByteArrayAsync(Ct)))
        {
            (image.Width, image.Height).ShouldBe((320, 213));
        }

        using var asAdmin = await admin.GetAsync($"/api/v1/files/{fileId}/thumbnail", Ct);
        asAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var asStranger = await stranger.GetAsync($"/api/v1/files/{fileId}/thumbnail", Ct);
        await Problem.ReadAsync(asStranger, HttpStatusCode.NotFound, "not_found");
        var row = await factory.DbAsync(db => db.Set<StoredFile>().AsNoTracking().SingleAsync(f => f.Id == fileId, Ct));
        row.ThumbnailKey.ShouldBe(Path.ChangeExtension(row.Key, null) + ".thumb.jpg");
        row.ThumbnailError.ShouldBeNull();

        var runs = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().Where(r => r.Job == "file-thumbnails").ToListAsync(Ct));
        runs.ShouldContain(r => r.Status == JobRunStatus.Succeeded && r.Items >= 1 && !r.Manual && r.Node != null);
        using var list = await admin.GetAsync("/api/v1/admin/jobs", Ct);
        var job = (await list.JsonAsync()).GetProperty("data").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "file-thumbnails");
        job.GetProperty("schedule").GetString().ShouldBe("0 0/10 * * * ?");
        job.GetProperty("description").GetString()!.ShouldContain("upload");

        // A file that is not an image gets none, and says so.
        var pdf = await UploadAsync(user, Images.Pdf, "doc.pdf", "application/pdf");
        using var none = await user.GetAsync($"/api/v1/files/{pdf}/thumbnail", Ct);
        await Problem.ReadAsync(none, HttpStatusCode.NotFound, FileCodes.NoThumbnail);
    }

    [Fact]
    public async Task A_corrupt_image_fails_its_own_thumbnail_and_leaves_its_completion_and_the_other_images_alone()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        var appId = await factory.AddAppAsync();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());

        var before = await UploadAsync(user, Picture(400, 300), "before.png");
        var damaged = CorruptPng();
        using var completed = await user.CompleteAsync(appId, damaged);
        completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
        var completion = (await completed.JsonAsync()).GetProperty("data");
        var corrupt = FileIdOf(completion);
        var after = await UploadAsync(user, Picture(300, 600), "after.png");

        (await factory.ThumbnailSettledAsync(corrupt)).ShouldBe(ThumbnailStatus.Failed);
        (await factory.ThumbnailSettledAsync(before)).ShouldBe(ThumbnailStatus.Ready);
        (await factory.ThumbnailSettledAsync(after)).ShouldBe(ThumbnailStatus.Ready);

        var failed = await factory.DbAsync(db => db.Set<StoredFile>().AsNoTracking().SingleAsync(f => f.Id == corrupt, Ct));
        failed.ThumbnailError.ShouldNotBeNullOrWhiteSpace();
        failed.ThumbnailKey.ShouldBeNull();
        using var thumbnail = await user.GetAsync($"/api/v1/files/{corrupt}/thumbnail", Ct);
        var problem = await Problem.ReadAsync(thumbnail, HttpStatusCode.NotFound, FileCodes.ThumbnailFailed);
        problem.GetProperty("detail").GetString()!.ShouldContain(failed.ThumbnailError!);
        using (var small = await user.GetAsync($"/api/v1/files/{after}/thumbnail", Ct))
        using (var image = Image.Load(await small.Content.ReadAsByteArrayAsync(Ct)))
        {
            (image.Width, image.Height).ShouldBe((160, 320));
        }

        // The run that met it failed, and its summary names the file; the completion and its proof are untouched.
        var runs = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().Where(r => r.Job == "file-thumbnails" && r.Status == JobRunStatus.Failed).ToListAsync(Ct));
        runs.ShouldContain(r => r.Error!.Contains($"file {corrupt} ("), string.Join(" | ", runs.Select(r => r.Error)));
        var stored = await factory.DbAsync(db => db.Set<AppCompletion>().AsNoTracking().SingleAsync(c => c.Id == completion.GetProperty("id").GetInt64(), Ct));
        stored.Status.ToString().ToLowerInvariant().ShouldBe(completion.GetProperty("status").GetString());
        stored.ScreenshotFileId.ShouldBe(corrupt);
        using var original = await user.GetAsync($"/api/v1/files/{corrupt}", Ct);
        original.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await original.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(damaged);
    }

    [Fact]
    public async Task Images_too_large_to_decode_fail_cleanly_by_their_header_or_by_the_memory_budget()
    {
        await using var factory = NewFactory();
        factory.With("Storage:Thumbnails:MaxPixels", "2000000").With("Storage:Thumbnails:MaxDecodeMegabytes", "16");
        await factory.InitializeAsync();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());

        // 3 million pixels by its header; then a small GIF that unpacks to 30 frames of a million pixels each.
        var wide = await UploadAsync(user, Picture(2000, 1500), "wide.png");
        var frames = await UploadAsync(user, Animation(1000, 1000, 30), "frames.gif", "image/gif");
        var fine = await UploadAsync(user, Picture(640, 480), "fine.png");

        (await factory.ThumbnailSettledAsync(wide)).ShouldBe(ThumbnailStatus.Failed);
        (await factory.ThumbnailSettledAsync(frames)).ShouldBe(ThumbnailStatus.Failed);
        (await factory.ThumbnailSettledAsync(fine)).ShouldBe(ThumbnailStatus.Ready);
        var errors = await factory.DbAsync(db => db.Set<StoredFile>().AsNoTracking().Where(f => f.Id == wide || f.Id == frames)
            .ToDictionaryAsync(f => f.Id, f => f.ThumbnailError!, Ct));
        errors[wide].ShouldContain("MaxPixels");
        errors[frames].ShouldContain("MaxDecodeMegabytes");
    }

    private static long FileIdOf(JsonElement completion) => long.Parse(completion.GetProperty("screenshot").GetString()!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<long> UploadAsync(HttpClient client, byte[] content, string name, string type = "image/png")
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var form = new MultipartFormDataContent { { file, "file", name } };
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>A PNG of the given size with a random colour, so that no two share their bytes.</summary>
    internal static byte[] Picture(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32((byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256)));
        image[0, 0] = new Rgba32((byte)Random.Shared.Next(256), 0, 0);
        using var output = new MemoryStream();
        image.SaveAsPng(output);
        return output.ToArray();
    }

    /// <summary>A PNG signature and header followed by damage: accepted as an upload (its first bytes are a PNG's), unreadable as an image.</summary>
    internal static byte[] CorruptPng()
    {
        var bytes = Picture(64, 64);
        return [.. bytes.AsSpan(0, 40), .. System.Text.Encoding.ASCII.GetBytes("damaged-beyond-repair-" + new string('x', 64))];
    }

    private static byte[] Animation(int width, int height, int frames)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(10, 20, 30));
        for (var i = 1; i < frames; i++)
        {
            using var frame = new Image<Rgba32>(width, height, new Rgba32((byte)i, 20, 30));
            image.Frames.AddFrame(frame.Frames.RootFrame);
        }

        using var output = new MemoryStream();
        image.SaveAsGif(output);
        return output.ToArray();
    }

    public sealed class OnSqlite : ThumbnailJobTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : ThumbnailJobTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }

    public sealed class OnS3 : ThumbnailJobTests
    {
        private protected override AapFactory NewFactory() => new S3Factory();
    }
}

/// <summary>Waiting for the <c>file-thumbnails</c> job, for the tests that show or fetch thumbnails.</summary>
internal static class Thumbnails
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Whether a stored object is a thumbnail (<c>*.thumb.jpg</c>): tests that count the objects an upload leaves
    /// leave these out, since the job makes them in the background for the images of earlier tests, at any moment.
    /// </summary>
    public static bool IsThumbnail(string key) => key.EndsWith(".thumb.jpg", StringComparison.Ordinal);

    /// <summary>Waits for the job to settle the file's thumbnail (ready or failed) and returns its status.</summary>
    public static async Task<string?> ThumbnailSettledAsync(this AapFactory factory, long fileId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? status;
        do
        {
            status = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Where(f => f.Id == fileId).Select(f => f.ThumbnailStatus).SingleAsync(Ct));
            if (status != ThumbnailStatus.Pending)
            {
                return status;
            }

            await Task.Delay(100, Ct);
        }
        while (DateTime.UtcNow < deadline);

        var runs = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().Where(r => r.Job == "file-thumbnails").Select(r => r.Status + ": " + r.Error).ToListAsync(Ct));
        var problems = LogFiles.ReadAll(factory.DataDirectory).Where(l => l.Contains("\"Warning\"", StringComparison.Ordinal) || l.Contains("\"Error\"", StringComparison.Ordinal));
        throw new TimeoutException($"The thumbnail of file {fileId} was still pending. Runs: {string.Join(" | ", runs)}. Log: {string.Join(Environment.NewLine, problems)}");
    }
}
