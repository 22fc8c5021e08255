using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Features.Imports;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Web;
using Microsoft.EntityFrameworkCore;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// The admin page's upload form (<c>/admin/imports</c>) posted over HTTP with its antiforgery token, as a browser
/// posts it: an over-size file is refused as early as the API refuses it (Content-Length up front, or as its bytes
/// pass the limit), with the error beside the file field and nothing stored; a form without its token is refused.
/// </summary>
public sealed partial class ImportPageUploadTests
{
    private const int Limit = 4096;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_over_size_upload_is_refused_early_with_the_error_beside_the_field_and_nothing_stored()
    {
        await using var factory = PagesFactory.ForPages(new SqliteFactory());
        factory.With("Imports:MaxUploadBytes", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await factory.InitializeAsync();
        var admin = await factory.CreateAdminAsync();
        var cookies = new CookieContainer();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = factory.ServerAddress,
        };
        using (var signInPage = await client.GetAsync("/account/sign-in", Ct))
        {
            using var signIn = await client.PostAsync("/account/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Login"] = admin.UserName!, ["Input.Password"] = admin.Password, ["__RequestVerificationToken"] = await TokenAsync(signInPage),
            }), Ct);
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect, await signIn.Content.ReadAsStringAsync(Ct));
        }

        using var page = await client.GetAsync("/admin/imports", Ct);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        var token = await TokenAsync(page);

        // Over the limit, streamed (no Content-Length beyond what the form allows): stopped as its bytes pass the limit.
        var big = "a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", 2000));
        using (var streamed = await client.PostAsync("/admin/imports", Form(big, token, ("table", "big")), Ct))
        {
            await ShowsTheLimitBesideTheFileAsync(streamed);
        }

        // Declared far over the limit: refused before its body is read (10 GB declared, a few bytes sent, the rest never).
        var (status, declared) = await PostDeclaringAsync(factory.ServerAddress, cookies.GetCookieHeader(factory.ServerAddress), token)
            .WaitAsync(TimeSpan.FromSeconds(60), Ct);
        status.ShouldStartWith("HTTP/1.1 413", Case.Sensitive, declared);
        declared.ShouldContain("id=\"import_file-error\"");
        declared.ShouldContain($"limit of {Limit} bytes");

        // Without its token: refused, nothing stored.
        using (var forged = await client.PostAsync("/admin/imports", Form("a,b\n1,2\n", null, ("table", "forged")), Ct))
        {
            forged.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await forged.Content.ReadAsStringAsync(Ct)).ShouldContain("The form could not be accepted");
        }

        (await factory.DbAsync(db => db.Set<DataImport>().CountAsync(Ct))).ShouldBe(0);
        StoredImportFiles(factory).ShouldBeEmpty();
        Directory.GetFiles(Path.GetTempPath(), "aap-import-*.upload").ShouldNotContain(f => File.GetLastWriteTimeUtc(f) > DateTime.UtcNow.AddSeconds(-60));

        // Within the limit, with its token: started, and the form's options are the import's.
        using var small = await client.PostAsync("/admin/imports", Form("a,b\n1,2\n", token, ("table", "Small One"), ("mode", "append")), Ct);
        small.StatusCode.ShouldBe(HttpStatusCode.Redirect, await small.Content.ReadAsStringAsync(Ct));
        var started = await factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(Ct));
        small.Headers.Location!.ToString().ShouldBe($"/admin/imports/{started.Id}");
        (started.TableName, started.FileName, started.FileBytes).ShouldBe(("small_one", "small.csv", 8L));
    }

    private static async Task ShowsTheLimitBesideTheFileAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge, html);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        FileError().Match(html).Groups[1].Value.ShouldContain($"limit of {Limit} bytes");
        html.ShouldContain("aria-describedby=\"import_file-error\"");
    }

    private static MultipartFormDataContent Form(string csv, string? token, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", csv.Length < 100 ? "small.csv" : "big.csv");
        if (token is not null)
        {
            form.Add(new StringContent(token), "__RequestVerificationToken");
        }

        return form;
    }

    private static async Task<string> TokenAsync(HttpResponseMessage page)
    {
        var token = RawPages.HiddenToken().Match(await page.Content.ReadAsStringAsync(Ct)).Groups[1].Value;
        token.ShouldNotBeEmpty();
        return token;
    }

    private static string[] StoredImportFiles(AapFactory factory)
    {
        var folder = Path.Combine(factory.DataDirectory, "files", "imports");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
    }

    [GeneratedRegex("<p class=\"field-error\" id=\"import_file-error\">([^<]*)</p>")]
    private static partial Regex FileError();

    /// <summary>
    /// Over a socket of its own (a client library would wait to finish sending first): the head of a form declaring
    /// 10 GB, its token and the first bytes of its file; then the response is read while the rest is never sent.
    /// </summary>
    private static async Task<(string Status, string Response)> PostDeclaringAsync(Uri server, string cookies, string token)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, Ct);
        var stream = tcp.GetStream();
        const string boundary = "declared-upload";
        var body = $"--{boundary}\r\nContent-Disposition: form-data; name=\"__RequestVerificationToken\"\r\n\r\n{token}\r\n" +
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n";
        var head = $"POST /admin/imports HTTP/1.1\r\nHost: {server.Authority}\r\nCookie: {cookies}\r\nAccept: text/html\r\n" +
            $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {10L * 1024 * 1024 * 1024}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + body), Ct);
        await stream.FlushAsync(Ct);
        var response = new StringBuilder();
        var buffer = new byte[16 * 1024];
        int read;
        while (!response.ToString().Contains("</html>", StringComparison.Ordinal) && (read = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            response.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        var text = response.ToString();
        return (text[..Math.Max(0, text.IndexOf('\r', StringComparison.Ordinal))], text);
    }
}
