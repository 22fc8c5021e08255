using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Features.Files;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Every multipart upload route answers an oversized body with 413 and a malformed one with 400, both as problems,
/// and keeps nothing (no file row, no completion, no object in the store).
/// </summary>
public abstract class UploadBodyTests(AapFactory factory)
{
    /// <summary>Storage:MaxFileBytes by default.</summary>
    private const int Limit = 5 * 1024 * 1024;

    /// <summary>The room the form reader leaves for the other parts (FilesFeature).</summary>
    private const int FormRoom = 64 * 1024;

    private const string Boundary = "aap-test-boundary-0123456789";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The upload routes: the product's, seed 002's, and the two completion routes (product and seed 000).</summary>
    public static TheoryData<string> Routes => ["files", "seed-upload", "completions", "seed-completion"];

    public static TheoryData<string, int, HttpStatusCode> Sizes
    {
        get
        {
            var data = new TheoryData<string, int, HttpStatusCode>();
            foreach (var route in Routes)
            {
                data.Add(route, Limit - 1, HttpStatusCode.Created);
                data.Add(route, Limit, HttpStatusCode.Created);
                data.Add(route, Limit + 1, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, Limit + $"\r\n--{Boundary}\r\n".Length, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, Limit + FormRoom, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, Limit + FormRoom + 1, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, 6 * 1024 * 1024, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, 2 * Limit, HttpStatusCode.RequestEntityTooLarge);
                data.Add(route, 10 * Limit, HttpStatusCode.RequestEntityTooLarge);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task A_file_over_the_limit_is_a_413_on_every_upload_route_and_nothing_is_kept(string route, int size, HttpStatusCode expected)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var (url, field) = await RouteAsync(route);
        var before = await StoredAsync();
        var png = new byte[size];
        Images.Png.CopyTo(png, 0);
        using var form = new MultipartFormDataContent(Boundary) { { new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, field, "big.png" } };

        // As curl does for large bodies: past the server's request limit, Kestrel answers 413 before the body is sent
        // and closes the connection; a client that sends the body anyway only sees the connection break.
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = form, Headers = { ExpectContinue = true } };
        using var response = await client.SendAsync(request, Ct);

        if (expected == HttpStatusCode.Created)
        {
            var body = await response.Content.ReadAsStringAsync(Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
            return;
        }

        var problem = await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        problem.GetProperty("detail").GetString()!.ShouldContain(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        (await StoredAsync()).ShouldBe(before);
    }

    public static TheoryData<string, string, string> Malformations
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var route in Routes)
            {
                foreach (var kind in new[] { "boundary never appears", "truncated part", "JSON sent as multipart", "JSON as multipart without boundary", "no boundary parameter", "no closing boundary" })
                {
                    data.Add(route, kind, "invalid_multipart");
                }

                // An empty body is an empty form to the framework: the problem is the missing file field.
                data.Add(route, "empty body", "validation_failed");
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Malformations))]
    public async Task A_malformed_multipart_body_is_a_400_that_says_what_is_wrong(string route, string kind, string code)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var (url, field) = await RouteAsync(route);
        var before = await StoredAsync();
        var part = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n";
        var png = Encoding.Latin1.GetString(Images.Png);
        var (body, contentType) = kind switch
        {
            "boundary never appears" => (part.Replace(Boundary, "another-boundary", StringComparison.Ordinal) + png + "\r\n--another-boundary--\r\n", $"multipart/form-data; boundary={Boundary}"),
            "truncated part" => (part + png[..20], $"multipart/form-data; boundary={Boundary}"),
            "JSON sent as multipart" => ("{\"file\": \"x.png\"}", $"multipart/form-data; boundary={Boundary}"),
            "JSON as multipart without boundary" => ("{\"file\": \"x.png\"}", "multipart/form-data"),
            "no boundary parameter" => (part + png + $"\r\n--{Boundary}--\r\n", "multipart/form-data"),
            "empty body" => ("", $"multipart/form-data; boundary={Boundary}"),
            "no closing boundary" => (part + png + "\r\n", $"multipart/form-data; boundary={Boundary}"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var content = new ByteArrayContent(Encoding.Latin1.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await client.PostAsync(url, content, Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, code);
        problem.GetProperty("detail").GetString()!.ShouldContain("multipart", Case.Insensitive);
        (await StoredAsync()).ShouldBe(before);
    }

    private async Task<(string Url, string Field)> RouteAsync(string route)
    {
        switch (route)
        {
            case "files":
                return ("/api/v1/files", "file");
            case "seed-upload":
                return ("/upload", "file");
            case "completions":
                return ($"/api/v1/apps/{await factory.AddAppAsync(points: 1)}/completions", "screenshot");
            case "seed-completion":
                return ($"/api/apps/detail/{await factory.AddAppAsync(points: 1)}/", "screenshot");
            default:
                throw new ArgumentOutOfRangeException(nameof(route));
        }
    }

    /// <summary>
    /// File rows (deleted ones too), completions, and uploaded objects in the local store (thumbnails left out:
    /// <see cref="Thumbnails.IsThumbnail"/>).
    /// </summary>
    private async Task<(int Files, int Completions, int Objects)> StoredAsync()
    {
        var files = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct));
        var completions = await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct));
        var folder = Path.Combine(factory.DataDirectory, "files");
        var objects = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Count(f => !Thumbnails.IsThumbnail(f))
            : 0;
        return (files, completions, objects);
    }

    public sealed class OnSqlite(SqliteFactory factory) : UploadBodyTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : UploadBodyTests(factory), IClassFixture<PostgresFactory>;
}
