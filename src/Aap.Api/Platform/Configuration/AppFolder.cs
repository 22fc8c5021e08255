namespace Aap.Api.Platform.Configuration;

/// <summary>
/// Where the application's own files (<c>appsettings*.json</c>) are read from. ASP.NET Core reads them from the
/// content root, which defaults to the working directory: <c>./out/aap</c> started from anywhere but <c>out/</c>
/// would silently run without them. When the working directory has no <c>appsettings.json</c> and the
/// application's folder has one, the application's folder is the content root. This is also what <c>dotnet run
/// --project src/Aap.Api</c> gets: it runs in the repository root (<c>RunWorkingDirectory</c>), so that
/// <c>./data</c> and <c>./.env</c> are the root's. An explicit <c>--contentRoot</c> or <c>ASPNETCORE_CONTENTROOT</c>
/// is left as it is.
/// </summary>
internal static class AppFolder
{
    private const string Settings = "appsettings.json";

    public static string? ContentRoot(string[] args)
    {
        if (args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase)) ||
            !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT")) ||
            !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT")))
        {
            return null;
        }

        var own = AppContext.BaseDirectory;
        return !File.Exists(Path.Combine(Directory.GetCurrentDirectory(), Settings)) && File.Exists(Path.Combine(own, Settings))
            ? own
            : null;
    }
}
