using Microsoft.AspNetCore.Connections;

namespace Aap.Api.Platform;

/// <summary>
/// Starts the service the way an operator expects: a start that cannot listen ends with one plain line on standard
/// error and a non-zero exit code, not a stack trace.
/// </summary>
internal static partial class Serving
{
    /// <summary>Exit code of a start that could not listen (the port is taken).</summary>
    public const int CannotListen = 1;

    /// <summary>Runs the start-up tasks (migrations, seeding, ...), then serves until stopped.</summary>
    public static async Task<int> ServeAsync(this WebApplication app, Func<Task> startupTasks)
    {
        try
        {
            await startupTasks();
            await app.RunAsync();
            return 0;
        }
        catch (IOException error) when (error.InnerException is AddressInUseException)
        {
            // The host has logged the exception already; once is enough.
            LogCannotListen(app.Logger, error.Message);
            await Console.Error.WriteLineAsync(
                $"aap: cannot listen: {error.Message.TrimEnd('.')}. Stop what uses the port, or choose another address with --urls or ASPNETCORE_URLS.");
            await app.DisposeAsync(); // flushes the log sinks
            return CannotListen;
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The service cannot start: {Reason}")]
    private static partial void LogCannotListen(ILogger logger, string reason);
}
