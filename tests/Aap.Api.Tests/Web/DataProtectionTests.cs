using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Web;

/// <summary>The key ring behind antiforgery tokens: in the database, and a warning when it is stored in clear.</summary>
public sealed class DataProtectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_a_certificate_outside_development_start_up_warns_once_that_the_keys_are_unencrypted()
    {
        var host = new SqliteFactory();
        await using (host)
        {
            await host.InitializeAsync();
            using var page = await host.Client().GetAsync("/account/sign-in", Ct);
            page.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
            await host.DisposeLoggingAsync();

            var warnings = LogFiles.ReadAll(host.DataDirectory).Where(l => l.Contains("Data Protection keys are stored unencrypted", StringComparison.Ordinal)).ToList();
            warnings.ShouldHaveSingleItem().ShouldContain("DataProtection:CertificatePath");
        }
    }

    [Fact]
    public async Task A_certificate_that_cannot_be_read_stops_start_up_naming_the_file()
    {
        await using var host = new SqliteFactory();
        host.With("DataProtection:CertificatePath", "/nonexistent/keys.pfx");

        var failure = await Should.ThrowAsync<Exception>(async () => await host.InitializeAsync());

        failure.ToString().ShouldContain("keys.pfx");
    }
}
