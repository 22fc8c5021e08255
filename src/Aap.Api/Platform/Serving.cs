using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform;

/// <summary>
/// Starts the service the way an operator expects: settings are checked before anything is migrated or written,
/// and a start that cannot succeed ends with one plain line on standard error and a non-zero exit code, not a
/// stack trace.
/// </summary>
internal static partial class Serving
{
    /// <summary>Exit code of a start refused for its configuration.</summary>
    public const int ConfigurationError = 2;

    /// <summary>Exit code of a start that could not listen (the port is taken).</summary>
    public const int CannotListen = 1;

    /// <summary>Validates every setting, runs the start-up tasks (migrations, seeding, ...), then serves until stopped.</summary>
    public static async Task<int> ServeAsync(this WebApplication app, Func<Task> startupTasks)
    {
        try
        {
            // The checks ValidateOnStart registers would otherwise run only once the host starts: after migrating.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await startupTasks();
            await app.RunAsync();
            return 0;
        }
        catch (Exception error) when (ConfigurationFailures(error) is { Count: > 0 } failures)
        {
            LogConfigurationError(app.Logger, error);
            await Console.Error.WriteLineAsync($"aap: configuration error: {string.Join(" ", failures)}");
            await app.DisposeAsync(); // flushes the log sinks
            return ConfigurationError;
        }
        catch (IOException error) when (error.InnerException is AddressInUseException)
        {
            // The host has logged the exception already; once is enough.
            LogCannotListen(app.Logger, error.Message);
            await Console.Error.WriteLineAsync(
                $"aap: cannot listen: {error.Message.TrimEnd('.')}. Stop what uses the port, or choose another address with --urls or ASPNETCORE_URLS.");
            await app.DisposeAsync();
            return CannotListen;
        }
    }

    private static List<string> ConfigurationFailures(Exception error) => error switch
    {
        OptionsValidationException options => [.. options.Failures],
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. aggregate.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)],
        _ => [],
    };

    [LoggerMessage(Level = LogLevel.Critical, Message = "The service cannot start: its configuration is invalid")]
    private static partial void LogConfigurationError(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The service cannot start: {Reason}")]
    private static partial void LogCannotListen(ILogger logger, string reason);
}
