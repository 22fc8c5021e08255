using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Platform.Persistence.Seeding;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Persistence;

internal static class PersistenceExtensions
{
    public static IHostApplicationBuilder AddPersistence(this IHostApplicationBuilder builder)
    {
        var dataDirectory = DataDirectory.From(builder.Configuration);
        builder.Services.AddSingleton(dataDirectory);
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString = configuration.GetConnectionString("Default") is { Length: > 0 } configured
                    ? configured
                    : options.ProviderKind == DatabaseProvider.Sqlite ? DefaultSqlite(dataDirectory) : "")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        // Interceptors are singletons registered as IInterceptor, by the platform and by features.
        builder.Services.AddSingleton<IInterceptor, TimestampInterceptor>();
        builder.Services.AddSingleton<IInterceptor, SqliteBusyTimeout>();
        // Pooled: a request rents a context whose EF services are already built, instead of building them anew.
        builder.Services.AddDbContextPool<AppDbContext>((services, options) => Configure(
            options, services.GetRequiredService<IOptions<DatabaseOptions>>().Value, services.GetServices<IInterceptor>()));

        builder.Services.AddSingleton(MigrationCatalog.Embedded);
        builder.Services.AddScoped<DatabaseMigrator>();
        builder.Services.AddScoped<Seeder>();
        // Features register IDatabaseChannel singletons; one connection listens for all of them (PostgreSQL only).
        builder.Services.AddHostedService<DatabaseNotificationListener>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [DatabaseHealthCheck.ReadyTag]);
        builder.Services.AddSingleton<SqliteMetrics>();
        return builder;
    }

    public static void Configure(DbContextOptionsBuilder options, DatabaseOptions database, IEnumerable<IInterceptor> interceptors)
    {
        switch (database.ProviderKind)
        {
            case DatabaseProvider.Postgres:
                UsePostgres(options, database.ConnectionString);
                break;
            default:
                options.UseSqlite(database.ConnectionString);
                break;
        }

        options.UseSnakeCaseNamingConvention();
        options.AddInterceptors(interceptors);
    }

    /// <summary>
    /// Apart from <see cref="Configure"/>, so that a node on SQLite never compiles code that names the PostgreSQL
    /// provider's methods, and so never loads it (<c>LoadedAssembliesTests</c>).
    /// </summary>
    private static void UsePostgres(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(ContextConnectionString(connectionString));

    /// <summary>
    /// How many statements each of the contexts' PostgreSQL connections keeps prepared (Npgsql's <c>Max Auto
    /// Prepare</c>): a statement run five times on a connection is prepared there, the least used dropped beyond this.
    /// </summary>
    internal const int PreparedStatementsPerConnection = 64;

    /// <summary>
    /// The connection string of the contexts' connections on PostgreSQL. Npgsql resets a pooled connection with
    /// <c>DISCARD ALL</c> before it is used again, which also discards what PostgreSQL cached for the session: the plans
    /// of the ledger's trigger functions were made anew in every transaction, and the reset itself is a round of
    /// work per request. The contexts leave no session state behind (no <c>SET</c>; the migration lock is released in a
    /// <c>finally</c>, the seed's lock is a transaction's, the ISIN load drops its temporary table), so the reset is off
    /// (<c>No Reset On Close</c>). Npgsql sends statements unprepared, and PostgreSQL parsed, analysed and planned each
    /// of them every time (a quarter of its CPU under completions), so the statements a connection runs often are
    /// prepared (<c>Max Auto Prepare</c>). Either is left as the configured connection string sets it, if it does.
    /// Connections that do keep session state (a CSV import's stage lock, the notification listener) are opened from
    /// the configured string as it is.
    /// </summary>
    internal static string ContextConnectionString(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var resetGiven = given.ContainsKey("No Reset On Close") || given.ContainsKey("NoResetOnClose");
        var prepareGiven = given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare");
        if (resetGiven && prepareGiven)
        {
            return connectionString;
        }

        var settings = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!resetGiven)
        {
            settings.NoResetOnClose = true;
        }

        if (!prepareGiven)
        {
            settings.MaxAutoPrepare = PreparedStatementsPerConnection;
        }

        return settings.ConnectionString;
    }

    /// <summary>
    /// Migrates (unless <c>Database:MigrateOnStart=false</c>) and applies the configured seed profile; on SQLite, starts its
    /// memory gauges (<see cref="SqliteMetrics"/>).
    /// </summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (options.ProviderKind == DatabaseProvider.Sqlite)
        {
            // Its gauges exist once it is made; on PostgreSQL it never is, so SQLite's library is not loaded there.
            _ = app.Services.GetRequiredService<SqliteMetrics>();
        }

        await using var scope = app.Services.CreateAsyncScope();
        if (options.MigrateOnStart)
        {
            await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        }

        if (!string.IsNullOrWhiteSpace(options.SeedProfile))
        {
            await scope.ServiceProvider.GetRequiredService<Seeder>().SeedAsync(options.SeedProfile, cancellationToken);
        }
    }

    private static string DefaultSqlite(DataDirectory dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory.Path);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory.Path, "aap.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }
}
