using System.Reflection;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform;

/// <summary>
/// Starts the service the way an operator expects: a start that cannot listen, or whose configuration is wrong,
/// ends with plain lines on standard error and a non-zero exit code, not a stack trace.
/// </summary>
internal static partial class Serving
{
    /// <summary>Exit code of a start that could not listen (the port is taken).</summary>
    public const int CannotListen = 1;

    /// <summary>Exit code of a start stopped by its configuration (a missing key, a bad value).</summary>
    public const int BadConfiguration = 2;

    /// <summary>
    /// Checks the options registered with <c>ValidateOnStart</c>, then runs the start-up tasks (migrations,
    /// seeding, ...), then serves until stopped. Validating first means a bad configuration changes nothing: the
    /// host would only check it when it starts, after the tasks had migrated the database.
    /// </summary>
    public static async Task<int> ServeAsync(this WebApplication app, Func<Task> startupTasks)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            await startupTasks();
            await app.RunAsync();
            return 0;
        }
        catch (IOException error) when (error.InnerException is AddressInUseException)
        {
            // The host has logged the exception already; once is enough.
            LogCannotStart(app.Logger, error.Message);
            await Console.Error.WriteLineAsync(
                $"aap: cannot listen: {error.Message.TrimEnd('.')}. Stop what uses the port, or choose another address with --urls or ASPNETCORE_URLS.");
            await app.DisposeAsync(); // flushes the log sinks
            return CannotListen;
        }
        catch (Exception error) when (ConfigurationFailures(error) is { Count: > 0 } failures && OwnsTheProcess)
        {
            // A host that embeds the application (the tests' WebApplicationFactory) gets the exception instead.
            var reason = string.Join(" ", failures);
            LogCannotStart(app.Logger, reason);
            foreach (var failure in failures)
            {
                await Console.Error.WriteLineAsync($"aap: configuration error: {failure}");
            }

            await app.DisposeAsync();
            return BadConfiguration;
        }
    }

    /// <summary>True when this assembly is the process's entry point, i.e. the service was started by an operator.</summary>
    private static bool OwnsTheProcess => Assembly.GetEntryAssembly() == typeof(Serving).Assembly;

    /// <summary>The failures of options validation; several options failing together arrive as an <see cref="AggregateException"/>.</summary>
    internal static IReadOnlyList<string> ConfigurationFailures(Exception error) => error switch
    {
        OptionsValidationException options => [.. options.Failures],
        AggregateException many when many.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. many.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => [],
    };

    [LoggerMessage(Level = LogLevel.Critical, Message = "The service cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string reason);
}
