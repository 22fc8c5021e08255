using System.Net;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Cli;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// The embedded default (SQLite, files on disk, no Redis) does not load the PostgreSQL driver, the AWS SDK or the Redis
/// client: each is mapped into memory only where its configuration asks for it. The built service runs as a process
/// of its own, serves the API and the pages, and the test reads which assemblies the kernel has mapped for it.
/// </summary>
public sealed partial class LoadedAssembliesTests : IDisposable
{
    private static readonly string[] UnusedOnTheDefault =
        ["Npgsql.dll", "AWSSDK.Core.dll", "AWSSDK.S3.dll", "StackExchange.Redis.dll"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("aap-assemblies-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task On_SQLite_with_files_on_disk_and_no_Redis_the_other_stores_clients_are_never_loaded()
    {
        await using var service = new RunningService(_folder.FullName, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["AAP_DATA_DIR"] = Path.Combine(_folder.FullName, "data"),
            ["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
            ["Storage__LinkSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
            ["Log__ConsoleFormat"] = "text",
            ["Jobs__Isin__Enabled"] = "false",
        }, "--urls", "http://127.0.0.1:0");
        var address = new Uri((await service.WaitForAsync(NowListening(), Ct)).Groups["address"].Value);
        using var client = new HttpClient { BaseAddress = address };

        // The start (migrations, the store, the jobs, the caches) and the API, a page and a failed sign-in behind it.
        foreach (var path in new[] { "/health/ready", "/api/v1/status", "/api/v1/apps", "/", "/account/sign-in", "/leaderboard" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        }

        using (var signIn = await client.PostAsync(new Uri("/api/v1/auth/login", UriKind.Relative),
                   new StringContent("""{"username":"nobody","password":"not-a-password-1"}""", System.Text.Encoding.UTF8, "application/json"), Ct))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var mapped = MappedFiles(service.ProcessId);
        mapped.ShouldContain(file => file.EndsWith("/aap.dll", StringComparison.Ordinal), "the maps are the service's own");
        mapped.ShouldContain(file => file.EndsWith("/Microsoft.Data.Sqlite.dll", StringComparison.Ordinal));
        foreach (var unused in UnusedOnTheDefault)
        {
            mapped.ShouldNotContain(file => file.EndsWith("/" + unused, StringComparison.Ordinal), $"{unused} is mapped:\n{string.Join('\n', mapped)}");
        }
    }

    /// <summary>The files the kernel has mapped into the process (<c>/proc/PID/maps</c>, the path column).</summary>
    private static string[] MappedFiles(int processId) => File.ReadAllLines($"/proc/{processId}/maps")
        .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
        .Where(columns => columns.Length == 6 && columns[5].StartsWith('/'))
        .Select(columns => columns[5].Trim())
        .Distinct(StringComparer.Ordinal)
        .ToArray();

    [GeneratedRegex(@"Now listening on: ""?(?<address>http://[^\s""]+)")]
    private static partial Regex NowListening();
}
