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
}
