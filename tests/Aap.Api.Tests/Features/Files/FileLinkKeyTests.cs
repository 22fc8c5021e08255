using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Features.Files;

/// <summary>
/// Local download links are signed with <c>Storage:LinkSigningKey</c>, a key of their own: rotating it is a choice
/// (previous keys keep validating), and the token signing key never signs or opens a link.
/// </summary>
public sealed class FileLinkKeyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));

    [Fact]
    public async Task A_link_is_refused_once_its_key_is_replaced_unless_the_key_is_kept_as_a_previous_one()
    {
        await using var before = new SqliteFactory();
        await before.InitializeAsync();
        var (_, link) = await UploadWithLinkAsync(before);
        var replacement = NewKey();
        // Two later starts of the same deployment (same data folder: database and files): one dropped the old key, one kept it.
        await using var dropped = new SqliteFactory();
        dropped.With("AAP_DATA_DIR", before.DataDirectory).With("Storage:LinkSigningKey", replacement);
        await using var kept = new SqliteFactory();
        kept.With("AAP_DATA_DIR", before.DataDirectory).With("Storage:LinkSigningKey", replacement)
            .With("Storage:PreviousLinkSigningKeys:0", before.LinkSigningKey);
        await dropped.InitializeAsync();
        await kept.InitializeAsync();

        using var refused = await dropped.Client().GetAsync(link, Ct);
        using var accepted = await kept.Client().GetAsync(link, Ct);

        await Problem.ReadAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await accepted.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(Images.Png);
    }

    [Fact]
    public async Task A_link_signed_with_the_token_signing_key_is_refused()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var (id, link) = await UploadWithLinkAsync(host);
        var expires = long.Parse(System.Web.HttpUtility.ParseQueryString(new Uri(host.ServerAddress, link).Query)["expires"]!, CultureInfo.InvariantCulture);
        // How links were signed before they had a key of their own: a key derived from the token signing key.
        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, Convert.FromBase64String(host.SigningKey), 32, info: "aap file links"u8.ToArray());
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(derived, Encoding.ASCII.GetBytes($"{id}.{expires}")));

        using var refused = await host.Client().GetAsync($"/api/v1/files/{id}/content?expires={expires}&signature={signature}", Ct);
        using var accepted = await host.Client().GetAsync(link, Ct);

        await Problem.ReadAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Development_generates_a_link_key_once_into_the_data_folder_and_links_survive_a_restart()
    {
        await using var first = new SqliteFactory();
        first.UseEnvironment("Development").With("Storage:LinkSigningKey", "");
        await first.InitializeAsync();
        var (_, link) = await UploadWithLinkAsync(first);
        var keyFile = Path.Combine(first.DataDirectory, "keys", "file-link-signing-key.json");
        File.Exists(keyFile).ShouldBeTrue();
        (await File.ReadAllTextAsync(keyFile, Ct)).ShouldNotContain(first.SigningKey);
        await using var restarted = new SqliteFactory();
        restarted.UseEnvironment("Development").With("Storage:LinkSigningKey", "").With("AAP_DATA_DIR", first.DataDirectory);
        await restarted.InitializeAsync();

        using var download = await restarted.Client().GetAsync(link, Ct);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("", "Storage:LinkSigningKey is required outside Development")]
    [InlineData("c2hvcnQ=", "Storage:LinkSigningKey must be base64 of at least 32 bytes")]
    public async Task Outside_Development_a_missing_or_weak_link_key_stops_start_up_naming_the_setting(string key, string message)
    {
        await using var host = new SqliteFactory();
        host.UseEnvironment("Production").With("Storage:LinkSigningKey", key);

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain(message);
    }

    /// <summary>Uploads a PNG as a new user and asks for its link: the file's id and the link's path and query.</summary>
    private static async Task<(long Id, string Link)> UploadWithLinkAsync(AapFactory host)
    {
        using var client = await host.ClientForAsync(await host.RegisterAsync());
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Images.Png);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "file", "proof.png");
        using var upload = await client.PostAsync("/api/v1/files", form, Ct);
        upload.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = (await upload.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        using var link = await client.GetAsync($"/api/v1/files/{id}/link", Ct);
        var url = new Uri((await link.JsonAsync()).GetProperty("data").GetProperty("url").GetString()!);
        return (id, url.PathAndQuery);
    }
}
