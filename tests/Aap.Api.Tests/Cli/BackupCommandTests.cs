using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aap.Api.Cli;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Aap.Api.Tests.Cli;

/// <summary>
/// <c>aap backup</c> / <c>aap restore</c> round trips on the built service, as an operator runs them: data written
/// through HTTP, a backup taken while the service serves and writes, everything wiped, the archive restored, and the
/// same data served again. Also <c>aap health</c>, the container's health check.
/// </summary>
public sealed partial class BackupCommandTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("aap-backup-test-");
    private readonly string _database = $"aap_backup_{Guid.NewGuid():N}";
    private bool _postgres;

    private string DataDirectory => Path.Combine(_folder.FullName, "data");

    private string Archive => Path.Combine(_folder.FullName, "backups", "aap.tar.gz");

    public async ValueTask DisposeAsync()
    {
        if (_postgres)
        {
            await PostgresServer.DropDatabaseAsync(_database);
        }

        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Sqlite_backup_taken_while_serving_restores_the_same_users_and_files_after_a_wipe()
    {
        var environment = Environment();

        var (user, fileId, content, before) = await ServeWriteAndBackUpAsync(environment);
        var archive = ReadArchive();
        archive.Keys.ShouldContain("aap-backup.json");
        archive.Keys.ShouldContain("database/aap.db");
        // The upload, and its thumbnail if the thumbnail job made it before the backup.
        archive.Keys.Count(k => k.StartsWith("files/", StringComparison.Ordinal)).ShouldBeInRange(1, 2);
        archive.Values.ShouldContain(v => v.SequenceEqual(content), "the uploaded file's bytes");

        Directory.Delete(DataDirectory, recursive: true);
        var restore = await RunAsync(environment, "restore", Archive);
        restore.ExitCode.ShouldBe(0, restore.StandardError);
        restore.StandardOutput.ShouldContain("Restored the Sqlite database");
        restore.StandardOutput.ShouldMatch(@"and [12] stored file\(s\)");
        await using (var restored = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "aap.db")};Pooling=false"))
        {
            await restored.OpenAsync(Ct);
            await using var check = restored.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            (await check.ExecuteScalarAsync(Ct)).ShouldBe("ok");
            check.CommandText = "SELECT count(*) FROM users";
            Convert.ToInt32(await check.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(before);
        }

        await ServeAndReadAsync(environment, user, fileId, content);
    }

    [Fact]
    public async Task Postgres_backup_taken_while_serving_restores_the_same_users_and_files_after_a_wipe()
    {
        var environment = await PostgresEnvironmentAsync();

        var (user, fileId, content, before) = await ServeWriteAndBackUpAsync(environment);
        var archive = ReadArchive();
        archive.Keys.ShouldContain("database/aap.pgdump");
        archive["database/aap.pgdump"][..5].ShouldBe("PGDMP"u8.ToArray(), "pg_dump's custom format");
        archive.Values.ShouldContain(v => v.SequenceEqual(content), "the uploaded file's bytes");

        await PostgresServer.DropDatabaseAsync(_database);
        await PostgresServer.CreateDatabaseAsync(_database);
        Directory.Delete(DataDirectory, recursive: true);
        var restore = await RunAsync(environment, "restore", Archive);
        restore.ExitCode.ShouldBe(0, restore.StandardError);
        restore.StandardOutput.ShouldContain("Restored the Postgres database");
        await using (var connection = new NpgsqlConnection(environment["ConnectionStrings__Default"]))
        {
            await connection.OpenAsync(Ct);
            await using var count = new NpgsqlCommand("SELECT count(*) FROM users", connection);
            Convert.ToInt32(await count.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(before);
        }

        await ServeAndReadAsync(environment, user, fileId, content);

        // Restoring over a live schema (not a wiped one) replaces it rather than failing on what exists.
        var again = await RunAsync(environment, "restore", Archive);
        again.ExitCode.ShouldBe(0, again.StandardError);
    }

    [Fact]
    public async Task Postgres_backup_without_pg_dump_on_the_path_fails_with_one_clear_line_and_writes_nothing()
    {
        var environment = await PostgresEnvironmentAsync();
        environment["PATH"] = Directory.CreateDirectory(Path.Combine(_folder.FullName, "empty-bin")).FullName;

        var run = await RunAsync(environment, "backup", "--output", Archive);

        run.ExitCode.ShouldBe(1);
        run.StandardError.Trim().ShouldStartWith("aap: pg_dump was not found on PATH");
        run.StandardError.ShouldContain("postgresql-client");
        File.Exists(Archive).ShouldBeFalse();
        Directory.Exists(Path.GetDirectoryName(Archive)).ShouldBeFalse("nothing is created when the dump fails");
    }

    [Fact]
    public async Task Restore_refuses_an_archive_of_another_provider_and_a_file_that_is_no_archive()
    {
        var environment = Environment();
        Directory.CreateDirectory(DataDirectory);
        await using (var seed = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "aap.db")};Pooling=false"))
        {
            await seed.OpenAsync(Ct);
            await using var create = seed.CreateCommand();
            create.CommandText = "CREATE TABLE marker (id INTEGER)";
            await create.ExecuteNonQueryAsync(Ct);
        }

        var backup = await RunAsync(environment, "backup", "--output", Archive);
        backup.ExitCode.ShouldBe(0, backup.StandardError);
        backup.StandardOutput.ShouldContain("Sqlite database, 0 stored file(s)");

        var postgres = await PostgresEnvironmentAsync();
        var wrong = await RunAsync(postgres, "restore", Archive);
        wrong.ExitCode.ShouldBe(1);
        wrong.StandardError.ShouldContain("the archive holds a Sqlite database but Database:Provider is Postgres");

        var notArchive = Path.Combine(_folder.FullName, "notes.txt");
        await File.WriteAllTextAsync(notArchive, "not a backup", Ct);
        var garbage = await RunAsync(environment, "restore", notArchive);
        garbage.ExitCode.ShouldBe(1);
        garbage.StandardError.ShouldContain("is not a readable backup archive");
    }

    [Theory]
    [InlineData("http://+:8080", null, "http://127.0.0.1:8080/")]
    [InlineData("http://0.0.0.0:9000;https://+:9001", null, "http://127.0.0.1:9000/")]
    [InlineData("http://[::]:7000", null, "http://127.0.0.1:7000/")]
    [InlineData(null, "8080", "http://127.0.0.1:8080/")]
    [InlineData(null, null, "http://127.0.0.1:5000/")]
    public void Health_checks_the_address_the_service_listens_on_by_its_settings(string? urls, string? ports, string expected) =>
        HealthCommand.DefaultAddress(urls, ports).ToString().ShouldBe(expected);

    /// <summary>Starts the service, writes a user and a file, backs up while registrations go on, and stops it.</summary>
    private async Task<(string User, long FileId, byte[] Content, int UsersBefore)> ServeWriteAndBackUpAsync(Dictionary<string, string?> environment)
    {
        await using var service = new RunningService(_folder.FullName, environment, "--urls", "http://127.0.0.1:0");
        var address = (await service.WaitForAsync(Listening(), Ct)).Value;

        // Generous: the first request after start compiles a lot, and the machine may be busy.
        var health = await RunAsync(environment, "health", "--ready", "--url", address, "--timeout-seconds", "60");
        health.ExitCode.ShouldBe(0, health.StandardError + health.StandardOutput);
        health.StandardOutput.ShouldContain("/health/ready: 200 ready");

        using var anonymous = new HttpClient { BaseAddress = new Uri(address) };
        var user = $"keep_{Guid.NewGuid():N}"[..14];
        await RegisterAsync(anonymous, user);
        using var client = await SignedInAsync(address, user);
        var content = Images.Screenshot();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent { { file, "file", "proof.png" } };
        using var upload = await client.PostAsync("/api/v1/files", form, Ct);
        var uploaded = await upload.JsonAsync();
        upload.StatusCode.ShouldBe(HttpStatusCode.Created, uploaded.ToString());
        var fileId = uploaded.GetProperty("data").GetProperty("id").GetInt64();

        // Registrations keep writing while the backup reads: the copy is still one consistent moment.
        using var stop = new CancellationTokenSource();
        var registered = 1;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await RegisterAsync(anonymous, $"busy_{Guid.NewGuid():N}"[..14]);
                Interlocked.Increment(ref registered);
            }
        }, Ct);
        var before = Volatile.Read(ref registered);
        var backup = await RunAsync(environment, "backup", "--output", Archive);
        await stop.CancelAsync();
        await writer;

        backup.ExitCode.ShouldBe(0, backup.StandardError);
        backup.StandardOutput.ShouldContain($"Backup written to {Archive}");
        backup.StandardOutput.ShouldMatch(@"database, [12] stored file\(s\)", "the upload, and its thumbnail if the job made it already");
        Volatile.Read(ref registered).ShouldBeGreaterThan(before, "registrations ran while the backup was taken");
        return (user, fileId, content, before);
    }

    /// <summary>Starts the service on the restored data: the user signs in and downloads the same bytes.</summary>
    private async Task ServeAndReadAsync(Dictionary<string, string?> environment, string user, long fileId, byte[] content)
    {
        string address;
        await using (var service = new RunningService(_folder.FullName, environment, "--urls", "http://127.0.0.1:0"))
        {
            address = (await service.WaitForAsync(Listening(), Ct)).Value;
            using var client = await SignedInAsync(address, user);
            using var me = await client.GetAsync("/api/v1/me", Ct);
            var body = await me.JsonAsync();
            me.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
            body.GetProperty("data").GetProperty("username").GetString().ShouldBe(user);
            using var download = await client.GetAsync($"/api/v1/files/{fileId}", Ct);
            download.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await download.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(content);
        }

        var down = await RunAsync(environment, "health", "--url", address, "--timeout-seconds", "2");
        down.ExitCode.ShouldBe(1);
        down.StandardError.ShouldContain("/health/live: no answer");
    }

    private static async Task RegisterAsync(HttpClient client, string user)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { username = user, email = $"{user}@example.test", password = Accounts.Password }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    private static async Task<HttpClient> SignedInAsync(string address, string user)
    {
        var client = new HttpClient { BaseAddress = new Uri(address) };
        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { login = user, password = Accounts.Password }, Ct);
        var body = await login.JsonAsync();
        login.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("data").GetProperty("access_token").GetString());
        return client;
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["AAP_DATA_DIR"] = DataDirectory,
        ["Log__ConsoleFormat"] = "text",
        ["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["Storage__LinkSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["Jobs__Isin__Enabled"] = "false",
        // The test registers as fast as it can from one address while the backup runs.
        ["Auth__RateLimitPermits"] = "100000",
    };

    private async Task<Dictionary<string, string?>> PostgresEnvironmentAsync()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync(_database);
        _postgres = true;
        var environment = Environment();
        environment["Database__Provider"] = "Postgres";
        environment["ConnectionStrings__Default"] = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        return environment;
    }

    private Dictionary<string, byte[]> ReadArchive()
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var stream = File.OpenRead(Archive);
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries[entry.Name] = data.ToArray();
        }

        return entries;
    }

    private async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(Dictionary<string, string?> environment, params string[] args)
    {
        var start = ServiceCommand.StartInfo(_folder.FullName, environment, args);
        return await ServiceCommand.RunToExitAsync(start, input: null, TimeSpan.FromMinutes(2), $"aap {string.Join(' ', args)}", Ct);
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:[0-9]+")]
    private static partial Regex Listening();
}
