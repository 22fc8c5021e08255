using System.Diagnostics;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// How a test starts the built service (<c>aap.dll</c>) as a process of its own: the same dotnet host as the test
/// run, in <c>folder</c>, with none of the runner's own settings leaking in (content root, address, data folder,
/// keys, seed profile) before the test's <c>environment</c> is applied.
/// </summary>
internal static class ServiceCommand
{
    private static readonly string[] Inherited =
        ["ASPNETCORE_CONTENTROOT", "DOTNET_CONTENTROOT", "ASPNETCORE_URLS", "AAP_DATA_DIR", "Auth__SigningKey", "Storage__LinkSigningKey", "Database__SeedProfile"];

    public static ProcessStartInfo StartInfo(string folder, IReadOnlyDictionary<string, string?> environment, IEnumerable<string> args, bool redirectInput = false)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "aap.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var inherited in Inherited)
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>
    /// Starts <paramref name="start"/>, writes <paramref name="input"/> to its standard input when given, and waits for
    /// it to exit within <paramref name="timeout"/> (killed and reported with its output otherwise).
    /// </summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunToExitAsync(
        ProcessStartInfo start, string? input, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not exit:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }
}
