using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Platform;

/// <summary>The log settings' ranges are enforced: a bad one stops start-up naming the key, before anything is logged.</summary>
public sealed class LogOptionsTests
{
    [Theory]
    [InlineData("Log:RetainedFileCount", "0")]
    [InlineData("Log:RetainedFileCount", "1001")]
    [InlineData("Log:FileSizeLimitBytes", "1023")]
    public async Task A_log_setting_out_of_range_stops_start_up_naming_the_setting(string key, string value)
    {
        await using var host = new SqliteFactory();
        host.With(key, value);

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain(key);
    }

    [Fact]
    public async Task Log_settings_in_range_start()
    {
        await using var host = new SqliteFactory();
        host.With("Log:RetainedFileCount", "1").With("Log:FileSizeLimitBytes", "1024");

        await host.InitializeAsync();

        using var status = await host.Client().GetAsync("/api/v1/status", TestContext.Current.CancellationToken);
        status.EnsureSuccessStatusCode();
    }
}
