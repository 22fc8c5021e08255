using System.Net;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using static Aap.Api.Tests.Infrastructure.CraftedImages;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Files;

/// <summary>
/// <c>Storage:Categories</c> as an operator sets it: a category narrowed to fewer types accepts only those (the
/// configuration binder appends a configured list to a default one, which is why the defaults are not the
/// properties' initial values), a new category accepts its own, the categories left out keep their defaults.
/// </summary>
public sealed class StorageCategoriesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_category_narrowed_in_the_settings_accepts_only_its_types_and_the_others_keep_their_defaults()
    {
        await using var host = new SqliteFactory();
        host.With("Storage:Categories:screenshots:0", "png").With("Storage:Categories:reports:0", "pdf");
        await host.InitializeAsync();
        using var client = await host.ClientForAsync(await host.RegisterAsync());

        using var jpegScreenshot = await UploadAsync(client, MinimalJpeg(), "shot.jpg", "image/jpeg", "screenshots");
        using var pngScreenshot = await UploadAsync(client, Png, "shot.png", "image/png", "screenshots");
        using var pdfReport = await UploadAsync(client, Pdf, "report.pdf", "application/pdf", "reports");
        using var pngReport = await UploadAsync(client, Png, "report.png", "image/png", "reports");
        using var jpegUpload = await UploadAsync(client, MinimalJpeg(), "photo.jpg", "image/jpeg", "uploads");

        await Problem.ReadAsync(jpegScreenshot, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        pngScreenshot.StatusCode.ShouldBe(HttpStatusCode.Created, await pngScreenshot.Content.ReadAsStringAsync(Ct));
        pdfReport.StatusCode.ShouldBe(HttpStatusCode.Created, await pdfReport.Content.ReadAsStringAsync(Ct));
        await Problem.ReadAsync(pngReport, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        jpegUpload.StatusCode.ShouldBe(HttpStatusCode.Created, await jpegUpload.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_category_naming_an_unknown_type_stops_start_up_and_names_the_category()
    {
        await using var host = new SqliteFactory();
        host.With("Storage:Categories:reports:0", "docx");

        var error = await Should.ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain("Storage:Categories:reports names an unknown file type 'docx'");
    }

    private static Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] content, string name, string contentType, string category) =>
        client.PostAsync("/api/v1/files", FileTests.Form(content, name, contentType, category), Ct);
}
