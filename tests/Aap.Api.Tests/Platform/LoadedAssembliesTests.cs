using System.Net;
using System.Text.RegularExpressions;
using System.Net.Http.Json;
using Aap.Api.Tests.Cli;
using Aap.Api.Tests.Features.Imports;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// The embedded default (SQLite, files on disk, no Redis) does not load the PostgreSQL driver, the AWS SDK or the Redis
/// client: each is mapped into memory only where its configuration asks for it. The built service runs as a process
/// of its own, serves the API and the pages, takes an admin's write and a CSV import, answers a broken body, and the
/// test reads which assemblies the kernel has mapped for it. (The daily ISIN download is switched off here: it reaches
/// the internet. Its loader names Npgsql's types only past a check for SQLite, as the import does.)
/// </summary>
public sealed partial class LoadedAssembliesTests : IDisposable
{
    private static readonly string[] UnusedOnTheDefault =
        ["Npgsql.dll", "AWSSDK.Core.dll", "AWSSDK.S3.dll", "StackExchange.Redis.dll"];

    private const string AdminPassword = "Loaded-assemblies-admin-1";

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
            ["Bootstrap__Admin__UserName"] = "opsadmin",
            ["Bootstrap__Admin__Email"] = "ops@example.com",
            ["Bootstrap__Admin__Password"] = AdminPassword,
            ["Log__ConsoleFormat"] = "text",
            ["Jobs__Isin__Enabled"] = "false",
            // Every method compiled once, fully optimised, with the inlining that a tiered process applies only to
            // its hot methods later: what an inlined method names is loaded at the first request, not after a while.
            ["DOTNET_TieredCompilation"] = "0",
        }, "--urls", "http://127.0.0.1:0");
        var address = new Uri((await service.WaitForAsync(NowListening(), Ct)).Groups["address"].Value);
        using var client = new HttpClient { BaseAddress = address };

        // A write the other nodes are told of (the catalog's eviction), and an error answered as a problem.
        using (var admin = new HttpClient { BaseAddress = address })
        {
            using var signIn = await admin.PostAsJsonAsync("/api/v1/auth/login", new { username = "opsadmin", password = AdminPassword }, Ct);
            var token = (await signIn.JsonAsync()).GetProperty("data").GetProperty("access_token").GetString();
            admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var created = await admin.PostAsJsonAsync("/api/v1/apps", new { name = "Loaded", link = "https://example.test/loaded", points = 5 }, Ct);
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            using var broken = await admin.PostAsync(new Uri("/api/v1/apps", UriKind.Relative),
                new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json"), Ct);
            broken.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            broken.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");

            // A CSV import, which runs in the service and records its outcome through a context of its own.
            using var import = await admin.PostAsync(new Uri("/api/v1/admin/imports", UriKind.Relative),
                ImportApiTests.Form("Id,Name\n1,Ada\n", "people.csv", ("table", "people")), Ct);
            import.StatusCode.ShouldBe(HttpStatusCode.Accepted, await import.Content.ReadAsStringAsync(Ct));
            var id = (await import.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!;
            var done = await admin.FinishedImportAsync(id);
            done.GetProperty("state").GetString().ShouldBe("succeeded", done.ToString());
        }

        // The start (migrations, the store, the jobs, the caches), the API and the pages.
        foreach (var path in new[] { "/health/ready", "/api/v1/status", "/api/v1/apps", "/", "/account/sign-in", "/leaderboard" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
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
