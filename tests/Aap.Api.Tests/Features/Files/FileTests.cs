using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Aap.Api.Tests.Infrastructure.CraftedImages;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Files;

/// <summary>Validated uploads and safe downloads, on the local store and on a real S3-compatible server.</summary>
public abstract class FileTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_image_is_stored_under_a_generated_key_and_described()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);

        using var response = await UploadAsync(client, Png, "holiday photo.png", "image/png");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var data = (await response.JsonAsync()).GetProperty("data");
        var id = data.GetProperty("id").GetInt64();
        data.GetProperty("url").GetString().ShouldBe($"/api/v1/files/{id}");
        data.GetProperty("content_type").GetString().ShouldBe("image/png");
        data.GetProperty("size").GetInt64().ShouldBe(Png.Length);
        data.GetProperty("sha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Png)));
        data.GetProperty("original_name").GetString().ShouldBe("holiday photo.png");
        response.Headers.Location!.ToString().ShouldBe($"/api/v1/files/{id}");
        var row = await factory.DbAsync(db => db.Set<StoredFile>().AsNoTracking().SingleAsync(f => f.Id == id, Ct));
        row.OwnerId.ShouldBe(account.Id);
        row.Key.ShouldMatch(@"^uploads/\d{4}/\d{2}/[0-9a-f]{32}\.png$");
        row.Provider.ShouldBe(factory is S3Factory ? "S3" : "Local");
    }

    [Fact]
    public async Task The_owner_downloads_the_exact_bytes_with_safe_headers()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await UploadIdAsync(client, Pdf, "report.pdf", "application/pdf");

        using var download = await client.GetAsync($"/api/v1/files/{id}", Ct);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(Pdf);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("application/pdf");
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        download.Content.Headers.ContentDisposition.FileNameStar.ShouldBe("report.pdf");
        download.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        download.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("sandbox");
    }

    [Fact]
    public async Task An_image_can_be_shown_inline_when_asked()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await UploadIdAsync(client, Png, "pixel.png", "image/png");

        using var download = await client.GetAsync($"/api/v1/files/{id}?inline=true", Ct);

        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("inline");
    }

    [Fact]
    public async Task Only_the_owner_and_admins_reach_a_file()
    {
        using var owner = await factory.ClientForAsync(await factory.RegisterAsync());
        using var other = await factory.ClientForAsync(await factory.RegisterAsync());
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var id = await UploadIdAsync(owner, Png, "mine.png", "image/png");

        using var asOther = await other.GetAsync($"/api/v1/files/{id}", Ct);
        using var otherLink = await other.GetAsync($"/api/v1/files/{id}/link", Ct);
        using var otherDelete = await other.DeleteAsync($"/api/v1/files/{id}", Ct);
        using var asAdmin = await admin.GetAsync($"/api/v1/files/{id}", Ct);
        using var anonymous = await factory.Client().GetAsync($"/api/v1/files/{id}", Ct);

        await Problem.ReadAsync(asOther, HttpStatusCode.NotFound, "not_found");
        await Problem.ReadAsync(otherLink, HttpStatusCode.NotFound, "not_found");
        await Problem.ReadAsync(otherDelete, HttpStatusCode.NotFound, "not_found");
        asAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        await Problem.ReadAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_link_downloads_the_file_without_a_token()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await UploadIdAsync(client, Png, "shared.png", "image/png");

        using var link = await client.GetAsync($"/api/v1/files/{id}/link", Ct);
        var data = (await link.JsonAsync()).GetProperty("data");
        using var plain = new HttpClient();
        using var download = await plain.GetAsync(data.GetProperty("url").GetString(), Ct);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(Png);
        data.GetProperty("expires_at").GetDateTime().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime.AddSeconds(300));
    }

    [Fact]
    public async Task The_caller_lists_their_own_files_only()
    {
        using var me = await factory.ClientForAsync(await factory.RegisterAsync());
        using var other = await factory.ClientForAsync(await factory.RegisterAsync());
        var first = await UploadIdAsync(me, Png, "a.png", "image/png");
        var second = await UploadIdAsync(me, Pdf, "b.pdf", "application/pdf");
        await UploadIdAsync(other, Png, "theirs.png", "image/png");

        using var list = await me.GetAsync("/api/v1/files?size=10", Ct);

        var body = await list.JsonAsync();
        body.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetInt64()).ShouldBe([second, first]);
        body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(2);
    }

    [Fact]
    public async Task A_deleted_file_is_gone_at_once_and_its_content_after_the_purge()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var id = await UploadIdAsync(client, Png, "old.png", "image/png");
        var key = await factory.DbAsync(db => db.Set<StoredFile>().Where(f => f.Id == id).Select(f => f.Key).SingleAsync(Ct));

        using var delete = await client.DeleteAsync($"/api/v1/files/{id}", Ct);
        using var after = await client.GetAsync($"/api/v1/files/{id}", Ct);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await Problem.ReadAsync(after, HttpStatusCode.NotFound, "not_found");
        (await ObjectExistsAsync(key)).ShouldBeTrue("the content stays until the purge");

        var purge = await factory.ServiceAsync<Aap.Api.Features.Files.FileService, Aap.Api.Features.Files.FilePurge>(s => s.PurgeAsync(TimeSpan.Zero, Ct));

        purge.Purged.ShouldBeGreaterThanOrEqualTo(1);
        purge.Failed.ShouldBe(0);
        (await ObjectExistsAsync(key)).ShouldBeFalse();
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().AnyAsync(f => f.Id == id, Ct))).ShouldBeFalse();
    }

    public static TheoryData<string, byte[], string, string, HttpStatusCode, string> Rejections => new()
    {
        { "empty file", [], "empty.png", "image/png", HttpStatusCode.BadRequest, "validation_failed" },
        { "PNG named .pdf", Png, "image.pdf", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PNG declared as PDF", Png, "image.png", "application/pdf", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "HTML renamed .png", "<!doctype html><html><script>alert(1)</script></html>"u8.ToArray(), "page.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "SVG with script renamed .png", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"u8.ToArray(), "icon.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PNG polyglot with a script", [.. Png, .. "<script>alert(document.cookie)</script>"u8.ToArray()], "poly.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "JPEG polyglot after its EOI", [.. JpegWithSvgInScan(), .. "<html><script>alert(1)</script>"u8.ToArray()], "poly.jpg", "image/jpeg", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PNG with markup in a tEXt chunk", PngWithChunk("tEXt", [.. "Comment\0"u8, .. "<script>alert(1)</script>"u8]), "text.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "JPEG with markup in a COM segment", MinimalJpeg(comment: [.. "<svg onload=alert(1)>"u8]), "comment.jpg", "image/jpeg", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "GIF with markup in a comment extension", Gif(comment: "<iframe src=//x>"), "comment.gif", "image/gif", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PNG polyglot with the script across the first two reads", [.. Png, .. Filler(81920 - Png.Length + 16 + 40, 81920 + 16 - Png.Length - 3, "<script>")], "split.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PDF with an HTML body", [.. Pdf, .. "<HTML><BODY onload=x()>"u8.ToArray()], "doc.pdf", "application/pdf", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "executable", "MZ\u0090\0\u0003\0\0\0"u8.ToArray(), "tool.png", "image/png", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "oversize", [.. Png, .. new byte[5 * 1024 * 1024]], "huge.png", "image/png", HttpStatusCode.RequestEntityTooLarge, "payload_too_large" },
        { "PDF checked in memory, a script in its last bytes", PdfOfSize(FileService.InMemoryBytes, "<script>"), "memory.pdf", "application/pdf", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
        { "PDF one byte too large for memory, a script in its last bytes", PdfOfSize(FileService.InMemoryBytes + 1, "<script>"), "spooled.pdf", "application/pdf", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type" },
    };

    /// <summary>A PDF of exactly <paramref name="size"/> bytes (filler after its header), ending in <paramref name="tail"/>.</summary>
    private static byte[] PdfOfSize(int size, string tail = "")
    {
        var body = Filler(size - Pdf.Length, size - Pdf.Length - tail.Length, tail);
        return [.. Pdf, .. body];
    }

    public static TheoryData<int> SizesAroundTheInMemoryLimit => new()
    {
        Pdf.Length, FileService.InMemoryBytes - 1, FileService.InMemoryBytes, FileService.InMemoryBytes + 1, 300_000,
    };

    /// <summary>Uploads up to <see cref="FileService.InMemoryBytes"/> are checked and stored from memory, larger ones through a spool file: both keep every byte.</summary>
    [Theory]
    [MemberData(nameof(SizesAroundTheInMemoryLimit))]
    public async Task A_file_on_either_side_of_the_in_memory_limit_is_stored_whole_with_its_hash(int size)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var content = PdfOfSize(size);

        using var response = await UploadAsync(client, content, "sized.pdf", "application/pdf");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var data = (await response.JsonAsync()).GetProperty("data");
        data.GetProperty("size").GetInt64().ShouldBe(size);
        data.GetProperty("sha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(content)));
        using var download = await client.GetAsync($"/api/v1/files/{data.GetProperty("id").GetInt64()}", Ct);
        (await download.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(content);
    }

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task A_refused_upload_leaves_no_object_and_no_row(string why, byte[] content, string name, string contentType, HttpStatusCode status, string code)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var (rows, objects) = await StoredAsync();

        using var response = await UploadAsync(client, content, name, contentType);

        var problem = await Problem.ReadAsync(response, status, code);
        Problem.FieldErrors(problem, "file").ShouldNotBeEmpty(why);
        (await StoredAsync()).ShouldBe((rows, objects), why);
    }

    public static TheoryData<string, byte[], string, string> MarkupBytesInPixels => new()
    {
        { "PNG whose IDAT data holds <SVG", PngWithSvgInPixels(), "pixels.png", "image/png" },
        { "JPEG whose scan data holds <svg", JpegWithSvgInScan(), "pixels.jpg", "image/jpeg" },
    };

    [Theory]
    [MemberData(nameof(MarkupBytesInPixels))]
    public async Task An_image_whose_compressed_pixels_happen_to_spell_markup_is_stored_and_accepted_as_a_completion_screenshot(
        string why, byte[] image, string name, string contentType)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync();

        using var upload = await UploadAsync(client, image, name, contentType);
        using var completion = await client.CompleteAsync(app, Unique(image), name, contentType);

        var stored = await upload.JsonAsync();
        upload.StatusCode.ShouldBe(HttpStatusCode.Created, $"{why}: {stored}");
        stored.GetProperty("data").GetProperty("sha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(image)));
        completion.StatusCode.ShouldBe(HttpStatusCode.Created, $"{why}: {await completion.JsonAsync()}");
        (await factory.DbAsync(db => db.Set<Aap.Api.Features.Rewards.AppCompletion>().CountAsync(c => c.AppId == app, Ct))).ShouldBe(1, why);
    }

    [Fact]
    public async Task A_path_in_the_file_name_never_reaches_the_store()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        var id = await UploadIdAsync(client, Png, "../../etc/passwd.png", "image/png");
        var windows = await UploadIdAsync(client, Png, "..\\..\\windows\\system32\\evil.png", "image/png");

        var rows = await factory.DbAsync(db => db.Set<StoredFile>().AsNoTracking().Where(f => f.Id == id || f.Id == windows).OrderBy(f => f.Id).ToListAsync(Ct));
        rows.Select(r => r.OriginalName).ShouldBe(["passwd.png", "evil.png"]);
        rows.ShouldAllBe(r => !r.Key.Contains(".."));
    }

    [Fact]
    public async Task A_300_character_name_is_shortened_and_keeps_its_extension()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await UploadAsync(client, Png, new string('n', 296) + ".png", "image/png");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var name = (await response.JsonAsync()).GetProperty("data").GetProperty("original_name").GetString()!;
        name.Length.ShouldBe(255);
        name.ShouldEndWith(".png");
    }

    [Fact]
    public async Task A_form_without_the_file_field_is_a_400_naming_it()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "note" } };
        using var wrongField = new MultipartFormDataContent { { new ByteArrayContent(Png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "image", "x.png" } };

        using var missing = await client.PostAsync("/api/v1/files", form, Ct);
        using var wrong = await client.PostAsync("/api/v1/files", wrongField, Ct);

        Problem.FieldErrors(await Problem.ReadAsync(missing, HttpStatusCode.BadRequest, "validation_failed"), "file").ShouldNotBeEmpty();
        Problem.FieldErrors(await Problem.ReadAsync(wrong, HttpStatusCode.BadRequest, "validation_failed"), "file").ShouldNotBeEmpty();
    }

    [Fact]
    public async Task A_body_that_is_not_a_form_is_a_415_and_an_unknown_category_a_400()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var json = await client.PostAsync("/api/v1/files", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var category = await UploadAsync(client, Png, "x.png", "image/png", category: "secrets");
        using var screenshotPdf = await UploadAsync(client, Pdf, "x.pdf", "application/pdf", category: "screenshots");

        await Problem.ReadAsync(json, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Problem.FieldErrors(await Problem.ReadAsync(category, HttpStatusCode.BadRequest, "validation_failed"), "category").ShouldNotBeEmpty();
        await Problem.ReadAsync(screenshotPdf, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task Seed_002_upload_route_stores_the_file_and_returns_its_url()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.PostAsync("/upload", Form(Png, "seed.png", "image/png"), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await response.JsonAsync()).GetProperty("data").GetProperty("url").GetString()!.ShouldStartWith("/api/v1/files/");
    }

    internal static MultipartFormDataContent Form(byte[] content, string name, string contentType, string? category = null)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var form = new MultipartFormDataContent { { file, "file", name } };
        if (category is not null)
        {
            form.Add(new StringContent(category), "category");
        }

        return form;
    }

    protected static Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] content, string name, string contentType, string? category = null) =>
        client.PostAsync("/api/v1/files", Form(content, name, contentType, category), Ct);

    protected static async Task<long> UploadIdAsync(HttpClient client, byte[] content, string name, string contentType)
    {
        using var response = await UploadAsync(client, content, name, contentType);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body.GetProperty("data").GetProperty("id").GetInt64();
    }

    private async Task<bool> ObjectExistsAsync(string key)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<IFileStore>().OpenAsync(key, Ct);
        if (stored is null)
        {
            return false;
        }

        await stored.Content.DisposeAsync();
        return true;
    }

    /// <summary>How many file rows and stored objects there are.</summary>
    /// <summary>
    /// File rows (deleted ones too) and uploaded objects (thumbnails left out: <see cref="Thumbnails.IsThumbnail"/>).
    /// </summary>
    private async Task<(int Rows, int Objects)> StoredAsync()
    {
        var rows = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct));
        int objects;
        if (factory is S3Factory s3)
        {
            using var client = Aap.Api.Platform.Storage.S3FileStore.CreateClient(new StorageOptions.S3Options
            {
                ServiceUrl = Environment.GetEnvironmentVariable(S3Factory.Variable),
                ForcePathStyle = true,
            });
            var listed = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = s3.Bucket }, Ct);
            objects = listed.S3Objects?.Count(o => !Thumbnails.IsThumbnail(o.Key)) ?? 0;
        }
        else
        {
            var folder = Path.Combine(factory.DataDirectory, "files");
            objects = Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Count(f => !Thumbnails.IsThumbnail(f)) : 0;
        }

        return (rows, objects);
    }

    public sealed class OnLocalDisk(SqliteFactory factory) : FileTests(factory), IClassFixture<SqliteFactory>
    {
        [Fact]
        public async Task A_range_request_gets_206_with_those_bytes()
        {
            using var client = await factory.ClientForAsync(await factory.RegisterAsync());
            var id = await UploadIdAsync(client, Pdf, "range.pdf", "application/pdf");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/files/{id}");
            request.Headers.Range = new RangeHeaderValue(0, 3);

            using var response = await client.SendAsync(request, Ct);

            response.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
            (await response.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(Pdf[..4]);
            response.Content.Headers.ContentRange!.Length.ShouldBe(Pdf.Length);
        }

        [Fact]
        public async Task A_signed_link_stops_working_when_it_expires_or_is_altered()
        {
            using var client = await factory.ClientForAsync(await factory.RegisterAsync());
            var id = await UploadIdAsync(client, Png, "timed.png", "image/png");
            using var link = await client.GetAsync($"/api/v1/files/{id}/link", Ct);
            var url = (await link.JsonAsync()).GetProperty("data").GetProperty("url").GetString()!;
            using var plain = new HttpClient();

            using var altered = await plain.GetAsync(url[..^1] + (url[^1] == 'a' ? 'b' : 'a'), Ct);
            using var otherFile = await plain.GetAsync(url.Replace($"/files/{id}/", $"/files/{id + 1}/", StringComparison.Ordinal), Ct);
            factory.Clock.Advance(TimeSpan.FromSeconds(301));
            using var expired = await plain.GetAsync(url, Ct);

            await Problem.ReadAsync(altered, HttpStatusCode.Forbidden, "forbidden");
            await Problem.ReadAsync(otherFile, HttpStatusCode.Forbidden, "forbidden");
            await Problem.ReadAsync(expired, HttpStatusCode.Forbidden, "forbidden");
        }
    }

    public sealed class OnS3(S3Factory factory) : FileTests(factory), IClassFixture<S3Factory>
    {
        [Fact]
        public async Task The_link_is_a_presigned_URL_of_the_store()
        {
            using var client = await factory.ClientForAsync(await factory.RegisterAsync());
            var id = await UploadIdAsync(client, Png, "presigned.png", "image/png");

            using var link = await client.GetAsync($"/api/v1/files/{id}/link", Ct);

            var url = new Uri((await link.JsonAsync()).GetProperty("data").GetProperty("url").GetString()!);
            url.GetLeftPart(UriPartial.Authority).ShouldBe(new Uri(Environment.GetEnvironmentVariable(S3Factory.Variable)!).GetLeftPart(UriPartial.Authority));
            url.Query.ShouldContain("Signature");
        }
    }
}
