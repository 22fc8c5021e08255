using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Persistence;

internal enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where AAP keeps its data. Section <c>Database</c>; the connection string is <c>ConnectionStrings:Default</c>.</summary>
internal sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary><c>Sqlite</c> (default, embedded) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>Apply pending migrations when the service starts (several nodes may start at once: a lock serialises them).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Seed profile applied at start (<c>demo</c> or <c>test</c>); empty seeds nothing.</summary>
    public string? SeedProfile { get; set; }

    /// <summary>On PostgreSQL, seconds between attempts to listen again for change notifications after losing them.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int ListenRetrySeconds { get; set; } = 3;

    /// <summary>Resolved from <c>ConnectionStrings:Default</c>, or the data folder's <c>aap.db</c> for SQLite.</summary>
    public string ConnectionString { get; set; } = "";

    public DatabaseProvider ProviderKind =>
        Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var kind) ? kind : DatabaseProvider.Sqlite;
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (!Enum.TryParse<DatabaseProvider>(options.Provider, ignoreCase: true, out var provider) ||
            !Enum.IsDefined(provider))
        {
            return ValidateOptionsResult.Fail(
                $"Database:Provider must be 'Sqlite' or 'Postgres', not '{options.Provider}'.");
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail(
                $"ConnectionStrings:Default is required when Database:Provider is '{provider}'.");
        }

        if (!string.IsNullOrEmpty(options.SeedProfile) && !Seeding.SeedProfiles.IsKnown(options.SeedProfile))
        {
            return ValidateOptionsResult.Fail(
                $"Database:SeedProfile must be one of {string.Join(", ", Seeding.SeedProfiles.All)}, not '{options.SeedProfile}'.");
        }

        return ValidateOptionsResult.Success;
    }
}
