using System.ComponentModel.DataAnnotations;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Security;
using Serilog;
using Serilog.Configuration;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Aap.Api.Platform.Observability;

/// <summary>Where logs go. Section <c>Log</c>; levels are set under <c>Serilog:MinimumLevel</c>.</summary>
internal sealed class LogOptions
{
    public const string SectionName = "Log";

    /// <summary><c>text</c> (readable) or <c>json</c>; defaults to text in Development and JSON elsewhere.</summary>
    public string? ConsoleFormat { get; set; }

    public bool ConsoleEnabled { get; set; } = true;

    public bool FileEnabled { get; set; } = true;

    /// <summary>Folder of the JSON log files; defaults to <c>$AAP_DATA_DIR/logs</c>.</summary>
    public string? FileDirectory { get; set; }

    /// <summary>
    /// A file rolls at this size (and daily). Large enough that a busy service rolls every few minutes rather than
    /// every few seconds, each roll opening a file and checking the folder's retention.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long FileSizeLimitBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>
    /// At most this many files are kept. Files roll at a size as well as daily, so a count that stood for days kept
    /// minutes of a busy service's events: the default leaves <see cref="RetainedTotalBytes"/> and
    /// <see cref="RetainedDays"/> to decide.
    /// </summary>
    [Range(1, 1000)]
    public int RetainedFileCount { get; set; } = 100;

    /// <summary>Log files older than this many days (by the date in their name) are deleted at the next roll; empty for no limit.</summary>
    [Range(1, 3650)]
    public int? RetainedDays { get; set; } = 30;

    /// <summary>The oldest log files are deleted at start and at each roll until the folder holds at most this; empty for no limit.</summary>
    [Range(1024, long.MaxValue)]
    public long? RetainedTotalBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Whether request bodies are logged (masked, truncated) when <c>Aap.Api.Platform.Observability.RequestBodies</c> logs at Debug.</summary>
    public bool RequestBodies { get; set; }

    /// <summary>How much of a request body is logged at most.</summary>
    [Range(256, 1024 * 1024)]
    public int RequestBodyLimitBytes { get; set; } = 4096;
}

internal static class LoggingSetup
{
    /// <summary>How many events may wait for the file's background writer before a logging thread waits for room.</summary>
    public const int FileQueueCapacity = 10_000;

    /// <summary>The builder's property that says the process runs a CLI command rather than serving (set by Program).</summary>
    public const string RunsCommandKey = "Aap.RunsCommand";

    public static IHostApplicationBuilder AddAapLogging(this IHostApplicationBuilder builder)
    {
        // Logging starts before the host is built, so its settings are checked here rather than by ValidateOnStart.
        var options = builder.Configuration.GetSection(LogOptions.SectionName).Get<LogOptions>() ?? new LogOptions();
        var format = options.ConsoleFormat ?? (builder.Environment.IsDevelopment() ? "text" : "json");
        var failures = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), failures, validateAllProperties: true);
        var messages = failures.Select(f => $"Log:{f.MemberNames.FirstOrDefault()}: {f.ErrorMessage}").ToList();
        if (format is not ("text" or "json"))
        {
            messages.Insert(0, $"Log:ConsoleFormat must be 'text' or 'json', not '{format}'.");
        }

        if (messages.Count > 0)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(LogOptions.SectionName, typeof(LogOptions), messages);
        }

        builder.Services.AddSingleton(options);
        var runsCommand = builder.Properties.TryGetValue(RunsCommandKey, out var command) && command is true;
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<RequestEnricher>();
        var directory = options.FileDirectory ?? Path.Combine(DataDirectory.From(builder.Configuration).Path, "logs");
        // preserveStaticLogger: each host (several run in one test process) logs through its own pipeline.
        builder.Services.AddSerilog(preserveStaticLogger: true, configureLogger: (services, logger) =>
        {
            logger.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                // Off, not Warning: at any level the hosting begins a logging scope per request (see RequestEnricher).
                // The category logs each request's start and end at Information, which RequestLogging's event replaces,
                // and a failed start, which the host logs too ("Hosting failed to start", with the exception).
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LevelAlias.Off)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .ReadFrom.Configuration(builder.Configuration)
                .Enrich.FromLogContext()
                .Enrich.With(services.GetRequiredService<RequestEnricher>())
                .Enrich.WithProperty("Application", "aap");

            if (options.ConsoleEnabled)
            {
                if (format == "json" && !runsCommand)
                {
                    // Written like the file, by a thread of its own, in one write per pass instead of one per event on
                    // the logging thread (ConsoleLogWriter); emptied into standard output when the logger is disposed.
                    // A CLI command writes its console as it goes: its own output goes to standard output too, and the
                    // two stay in order, line by line.
                    logger.WriteTo.Sink(new LogFileQueue(
                        new ConsoleLogWriter(new RenderedCompactJsonFormatter(), Console.OpenStandardOutput()),
                        FileQueueCapacity,
                        "Console log writer"));
                }
                else if (format == "json")
                {
                    logger.WriteTo.Console(new RenderedCompactJsonFormatter());
                }
                else
                {
                    logger.WriteTo.Console(
                        outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {RequestId}{NewLine}{Exception}",
                        formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            if (options.FileEnabled)
            {
                Directory.CreateDirectory(directory);
                // The file is written on a background thread (LogFileQueue): a request hands its event to a queue and
                // moves on, instead of formatting it and waiting for the file's lock on its own thread (with several
                // requests logging at once, most of that time was the wait). Should FileQueueCapacity events queue up,
                // a logging thread waits for room rather than lose its event. The queue is emptied into the file, and
                // the file flushed, when the logger is disposed: the host does it when it stops, the CLI before it exits.
                logger.WriteTo.Sink(new LogFileQueue(
                    LoggerSinkConfiguration.CreateSink(sinks => sinks.File(
                        // Serilog's compact JSON, the lines CompactJsonFormatter writes, at less cost per event.
                        new LogFileFormatter(),
                        Path.Combine(directory, "aap-.json"),
                        rollingInterval: RollingInterval.Day,
                        fileSizeLimitBytes: options.FileSizeLimitBytes,
                        rollOnFileSizeLimit: true,
                        retainedFileCountLimit: options.RetainedFileCount,
                        retainedFileTimeLimit: options.RetainedDays is { } days ? TimeSpan.FromDays(days) : null,
                        hooks: options.RetainedTotalBytes is { } total ? new LogFolderRetention(total) : null,
                        // Buffered, flushed every second: a write per event is what the per-request log would cost otherwise.
                        // A second process on the same folder (the CLI beside the server) rolls to its own file.
                        buffered: true,
                        flushToDiskInterval: TimeSpan.FromSeconds(1))),
                    FileQueueCapacity));
            }
        });
        CachingLoggerFactory.Decorate(builder.Services);
        return builder;
    }

    /// <summary>
    /// One event per request (<see cref="RequestLogging"/>). Bodies only with <c>Log:RequestBodies</c> and Debug, as
    /// separate events (<see cref="RequestBodyLogging"/>).
    /// </summary>
    public static IApplicationBuilder UseAapRequestLogging(this IApplicationBuilder app)
    {
        app.UseMiddleware<RequestLogging>();
        if (app.ApplicationServices.GetRequiredService<LogOptions>().RequestBodies)
        {
            app.UseMiddleware<RequestBodyLogging>();
        }

        return app;
    }
}
