using Aap.Api.Tests.Infrastructure;
using Aap.Api.Platform.Observability;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task By_default_the_log_folder_is_bounded_by_its_size_and_age_rather_than_a_count_of_files()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();

        var options = host.Services.GetRequiredService<LogOptions>();

        // Files roll at a size as well as daily: a count that bound before the total did (14 files of 10 MiB) kept a
        // few minutes of a busy service's events.
        options.RetainedTotalBytes.ShouldBe(1024L * 1024 * 1024);
        (options.RetainedFileCount * options.FileSizeLimitBytes).ShouldBeGreaterThanOrEqualTo(options.RetainedTotalBytes!.Value);
        options.RetainedDays.ShouldBe(30);
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
