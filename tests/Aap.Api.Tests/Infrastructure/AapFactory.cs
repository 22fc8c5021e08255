using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// Hosts the real application on Kestrel (a loopback port, real HTTP) against a database of its own: a fresh
/// SQLite file or a fresh PostgreSQL database. One factory serves one test class.
/// </summary>
public abstract class AapFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action<IServiceCollection>> _services = [];

    protected AapFactory()
    {
        DataDirectory = Directory.CreateTempSubdirectory("aap-test-").FullName;
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 9, 30, 0, TimeSpan.Zero));
        UseKestrel(0);
    }

    internal abstract DatabaseProvider Provider { get; }

    public string DataDirectory { get; }

    /// <summary>The HMAC key this host signs access tokens with (base64 of 48 random bytes).</summary>
    public string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));

    /// <summary>The key this host signs file links with (base64 of 48 random bytes), not the token key.</summary>
    public string LinkSigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));

    /// <summary>The application's clock: tests move time instead of sleeping.</summary>
    public FakeTimeProvider Clock { get; }

    public static JsonSerializerOptions Json { get; } = CreateJson();

    private string _environment = "Testing";

    /// <summary>The hosting environment the application starts in (default <c>Testing</c>).</summary>
    public AapFactory UseEnvironment(string environment)
    {
        _environment = environment;
        return this;
    }

    /// <summary>Configuration the application starts with; set before the first request.</summary>
    public AapFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Services added to the application's own (a test's EF interceptor, say); set before the first request.</summary>
    public AapFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    private bool _startFailed;

    public virtual ValueTask InitializeAsync()
    {
        try
        {
            StartServer();
        }
        catch
        {
            // Stopping a host that never finished starting can throw too (Quartz's clustered store, say, when its
            // scheduler never started): DisposeAsync then swallows that, so that the test reports this, the cause.
            _startFailed = true;
            throw;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A client whose requests carry no cookies or defaults from other tests, and which shows redirects instead of
    /// following them. Built here, not with <c>CreateClient(options)</c>: against Kestrel that client's inner handler
    /// keeps cookies and follows redirects whatever the options say (the options only decide whether extra handlers
    /// are added).
    /// </summary>
    public HttpClient Client()
    {
        StartServer();
        return new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = ServerAddress };
    }

    /// <summary><c>GET /health/ready</c>: its status and its JSON body (overall status and one entry per check).</summary>
    public async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> ReadyAsync()
    {
        using var response = await Client().GetAsync("/health/ready", TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone());
    }

    /// <summary>
    /// The scheduler's entry in <c>/health/ready</c> once it reads "started", or its last reading after 60 s: the
    /// scheduler starts in the background after the node has started, so "standby" comes first.
    /// </summary>
    public async Task<string?> SchedulerStartedAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? scheduler;
        while ((scheduler = (await ReadyAsync()).Body.GetProperty("checks").GetProperty("scheduler").GetProperty("description").GetString()) != "started"
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        return scheduler;
    }

    /// <summary>Where Kestrel listens for this factory.</summary>
    public Uri ServerAddress => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    /// <summary>Runs <paramref name="work"/> with the application's own database context, to arrange data or check it afterwards.</summary>
    internal async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    internal Task DbAsync(Func<AppDbContext, Task> work) => DbAsync(async db =>
    {
        await work(db);
        return true;
    });

    internal async Task<T> ServiceAsync<TService, T>(Func<TService, Task<T>> work) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // The pages' static files (wwwroot, fingerprinted by MapStaticAssets) from the build's manifest, as in Development.
        builder.UseStaticWebAssets();
        builder.UseSetting("AAP_DATA_DIR", DataDirectory);
        builder.UseSetting("Database:Provider", Provider.ToString());
        builder.UseSetting("Database:SeedProfile", "test");
        builder.UseSetting("Log:ConsoleEnabled", "false");
        builder.UseSetting("Cors:AllowedOrigins:0", "https://app.example.test");
        builder.UseSetting("Auth:SigningKeyId", "test-key");
        builder.UseSetting("Auth:SigningKey", SigningKey);
        builder.UseSetting("Storage:LinkSigningKey", LinkSigningKey);
        builder.UseSetting("Auth:RateLimitPermits", "100000");
        builder.UseSetting("RateLimits:Anonymous:PermitLimit", "1000000"); // the rate-limit tests set their own
        builder.UseSetting("RateLimits:User:PermitLimit", "1000000");
        builder.UseSetting("RateLimits:Admin:PermitLimit", "1000000");
        builder.UseSetting("RateLimits:Anonymous:PerHour", "0");
        builder.UseSetting("RateLimits:User:PerHour", "0");
        builder.UseSetting("RateLimits:Admin:PerHour", "0");
        builder.UseSetting("Auth:DevelopmentAdmin", "false"); // a test asks for it when it wants it
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    /// <summary>Stops the host so that its log files are flushed and complete.</summary>
    public async Task DisposeLoggingAsync()
    {
        var logging = Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>();
        await base.DisposeAsync();
        // The program's own RunAsync disposes the application too, on its own thread: when that began first, the
        // dispose above returns while the log file is still being flushed. Disposing the logger factory (which owns
        // the Serilog logger) again waits for the file sink to be closed.
        logging.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        catch (Exception) when (_startFailed)
        {
            // See InitializeAsync: the start-up failure is what the test reports.
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A log file still being flushed; the temp folder is cleaned by the OS.
        }

        GC.SuppressFinalize(this);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        PlatformExtensions.ConfigureJson(json);
        return json;
    }
}

public sealed class SqliteFactory : AapFactory
{
    internal override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

/// <summary>
/// A fresh database on the PostgreSQL server named by <c>AAP_TEST_POSTGRES</c> (an admin connection string that
/// scripts/test.sh provides). Without it the tests fail with a message that says so: they never skip silently.
/// </summary>
public sealed class PostgresFactory : AapFactory
{
    private readonly string _database = $"aap_test_{Guid.NewGuid():N}";
    private readonly PostgresFactory? _first;

    public PostgresFactory()
    {
    }

    private PostgresFactory(PostgresFactory first)
    {
        _first = first;
        With("Auth:SigningKey", first.SigningKey);
        With("Storage:LinkSigningKey", first.LinkSigningKey);
    }

    internal override DatabaseProvider Provider => DatabaseProvider.Postgres;

    public string ConnectionString { get; private set; } = "";

    /// <summary>
    /// Another node of the same deployment: its own process state (caches, clock, data folder) on the database of
    /// <paramref name="first"/>, signing with the same key. Initialize it after the first; the first owns the database.
    /// </summary>
    public static PostgresFactory AnotherNodeOf(PostgresFactory first) => new(first);

    /// <summary>
    /// Creates this factory's database without starting the application, so that nodes made with
    /// <see cref="AnotherNodeOf"/> can be initialized at the same moment as this one.
    /// </summary>
    public async Task CreateDatabaseAsync() => ConnectionString = await PostgresServer.CreateDatabaseAsync(_database);

    public override async ValueTask InitializeAsync()
    {
        if (_first is null && ConnectionString.Length == 0)
        {
            await CreateDatabaseAsync();
        }

        ConnectionString = _first?.ConnectionString ?? ConnectionString;
        With("ConnectionStrings:Default", ConnectionString);
        await base.InitializeAsync();
    }

    /// <summary>
    /// The environment of a node started as a process of its own (<c>aap.dll</c>), joining this deployment: its
    /// database, signing keys and the S3 <paramref name="bucket"/>, with the limits AapFactory lifts for in-process
    /// nodes lifted too, and its log on the console.
    /// </summary>
    public Dictionary<string, string> ProcessNodeEnvironment(string bucket)
    {
        var environment = S3Factory.Settings(bucket).ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        environment["AWS_ACCESS_KEY_ID"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")!;
        environment["AWS_SECRET_ACCESS_KEY"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!;
        environment["Database__Provider"] = "Postgres";
        environment["ConnectionStrings__Default"] = ConnectionString;
        environment["Database__SeedProfile"] = "test";
        environment["Auth__SigningKeyId"] = "test-key";
        environment["Auth__SigningKey"] = SigningKey;
        environment["Storage__LinkSigningKey"] = LinkSigningKey;
        environment["Auth__DevelopmentAdmin"] = "false";
        environment["Auth__RateLimitPermits"] = "100000";
        environment["RateLimits__Anonymous__PermitLimit"] = "1000000";
        environment["RateLimits__User__PermitLimit"] = "1000000";
        environment["RateLimits__Admin__PermitLimit"] = "1000000";
        environment["RateLimits__Anonymous__PerHour"] = "0";
        environment["RateLimits__User__PerHour"] = "0";
        environment["RateLimits__Admin__PerHour"] = "0";
        environment["Log__ConsoleEnabled"] = "true";
        return environment;
    }

    /// <summary>
    /// As a production database should be set: PostgreSQL looks for a vanished client during a long statement (an
    /// insert waiting on a lock, say) every 100 ms and ends it, rather than committing it for a node that was killed.
    /// </summary>
    public async Task EndStatementsOfVanishedClientsAsync(CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        var database = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString).Database;
        await using var check = new Npgsql.NpgsqlCommand($"ALTER DATABASE \"{database}\" SET client_connection_check_interval = '100ms'", connection);
        await check.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A client of a node started as a process, signed in as <paramref name="userName"/> with a bearer token.</summary>
    public static async Task<HttpClient> SignedInClientAsync(Uri node, string userName, CancellationToken ct)
    {
        var http = new HttpClient { BaseAddress = node };
        using var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { login = userName, password = Accounts.Password }, ct);
        var body = await login.Content.ReadFromJsonAsync<JsonElement>(ct);
        login.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, body.ToString());
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", body.GetProperty("data").GetProperty("access_token").GetString());
        return http;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_first is null)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(_database);
        }
    }
}

internal static class HttpJson
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync<T>(this HttpClient client, string url, T body) =>
        client.PostAsJsonAsync(url, body, AapFactory.Json);
}

/// <summary>
/// SQLite for data and the S3-compatible server named by <c>AAP_TEST_S3</c> (scripts/test.sh starts moto_server)
/// for files, in a bucket of its own. Without the server the tests fail with a message that says so.
/// </summary>
public sealed class S3Factory : AapFactory
{
    public const string Variable = "AAP_TEST_S3";

    internal override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    public string Bucket { get; } = $"aap-test-{Guid.NewGuid():N}";

    public override ValueTask InitializeAsync()
    {
        foreach (var (key, value) in Settings(Bucket))
        {
            With(key, value);
        }

        return base.InitializeAsync();
    }

    /// <summary>
    /// The storage settings of a node on the S3 server named by <c>AAP_TEST_S3</c> (scripts/test.sh starts one), in
    /// <paramref name="bucket"/>, made when missing; the tests fail with a message saying so without a server.
    /// </summary>
    public static Dictionary<string, string> Settings(string bucket)
    {
        var endpoint = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"S3 tests need a server: set {Variable} to an S3-compatible endpoint, or run scripts/test.sh, which starts one.");
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "test");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "test");
        return new(StringComparer.Ordinal)
        {
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = endpoint,
            ["Storage:S3:ForcePathStyle"] = "true",
            ["Storage:S3:CreateBucket"] = "true",
            ["Storage:S3:Bucket"] = bucket,
        };
    }
}
