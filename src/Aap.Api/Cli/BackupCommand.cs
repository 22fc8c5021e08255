using System.CommandLine;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Aap.Api.Cli;

/// <summary>
/// <c>aap backup --output FILE</c> and <c>aap restore FILE</c>: one <c>.tar.gz</c> archive holding the database and the
/// local file store (and the data folder's <c>keys/</c>, where Development keeps its generated keys).
/// </summary>
/// <remarks>
/// SQLite is copied with <c>VACUUM INTO</c>, one read transaction: consistent while the service serves and writes.
/// PostgreSQL is dumped with <c>pg_dump -Fc</c> (a consistent snapshot too) and restored with <c>pg_restore</c>; both
/// must be on <c>PATH</c>, at least the server's version. Files kept in S3 are the store's own business (its
/// versioning or replication): the archive holds none of them and the command says so.
/// </remarks>
internal static class BackupCommand
{
    /// <summary>The archive's description of itself, first entry of the archive.</summary>
    internal const string ManifestEntry = "aap-backup.json";

    private const int Format = 1;
    private const string SqliteEntry = "database/aap.db";
    private const string PostgresEntry = "database/aap.pgdump";
    private const string FilesPrefix = "files/";
    private const string KeysPrefix = "keys/";

    public static Command Backup(IServiceProvider services)
    {
        var output = new Option<FileInfo>("--output", "-o") { Description = "The archive to write (.tar.gz); an existing file is replaced.", Required = true };
        var command = new Command("backup", "Write the database and the local file store into one archive, while the service runs.") { output };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetRequiredValue(output);
            var context = Context.From(services);
            var summary = await WriteBackupAsync(context, target.FullName, cancellationToken);
            var writer = parse.InvocationConfiguration.Output;
            await writer.WriteLineAsync(summary);
            if (context.Storage.ProviderKind == StorageProvider.S3)
            {
                await writer.WriteLineAsync(
                    $"Storage:Provider is S3: the file contents stay in bucket '{context.Storage.S3.Bucket}' and are not in the archive; back the bucket up with the store's own tools (versioning, replication).");
            }

            return 0;
        });
        return command;
    }

    public static Command Restore(IServiceProvider services)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "An archive written by aap backup." };
        var command = new Command("restore", "Replace the database (and add the local files) with an archive's; stop every node first.") { file };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var source = parse.GetRequiredValue(file);
            if (!source.Exists)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"aap: restore: {source.FullName} does not exist.");
                return 1;
            }

            var summary = await RestoreAsync(Context.From(services), source.FullName, cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(summary);
            return 0;
        });
        return command;
    }

    private sealed record Context(DatabaseOptions Database, StorageOptions Storage, DataDirectory Data)
    {
        public static Context From(IServiceProvider services) => new(
            services.GetRequiredService<IOptions<DatabaseOptions>>().Value,
            services.GetRequiredService<IOptions<StorageOptions>>().Value,
            services.GetRequiredService<DataDirectory>());

        public string FilesRoot => Storage.LocalPath ?? Path.Combine(Data.Path, "files");

        public string KeysRoot => Path.Combine(Data.Path, "keys");
    }

    private sealed record Manifest(int Format, string Provider, string Storage, DateTimeOffset CreatedAt, string Version);

    private static async Task<string> WriteBackupAsync(Context context, string target, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("aap-backup-");
        var partial = target + ".partial";
        try
        {
            string databaseEntry;
            var dump = Path.Combine(work.FullName, "database");
            if (context.Database.ProviderKind == DatabaseProvider.Sqlite)
            {
                await SqliteBackupAsync(context.Database.ConnectionString, dump, cancellationToken);
                databaseEntry = SqliteEntry;
            }
            else
            {
                await PostgresTools.DumpAsync(context.Database.ConnectionString, dump, cancellationToken);
                databaseEntry = PostgresEntry;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            var files = 0;
            await using (var stream = File.Create(partial))
            await using (var gzip = new GZipStream(stream, CompressionLevel.Optimal))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            {
                var manifest = new Manifest(Format, context.Database.ProviderKind.ToString(), context.Storage.ProviderKind.ToString(),
                    DateTimeOffset.UtcNow, typeof(BackupCommand).Assembly.GetName().Version?.ToString() ?? "");
                var manifestEntry = new PaxTarEntry(TarEntryType.RegularFile, ManifestEntry)
                {
                    DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, JsonOptions)),
                };
                await tar.WriteEntryAsync(manifestEntry, cancellationToken);
                await tar.WriteEntryAsync(dump, databaseEntry, cancellationToken);
                if (context.Storage.ProviderKind == StorageProvider.Local)
                {
                    files = await AddFolderAsync(tar, context.FilesRoot, FilesPrefix, cancellationToken);
                }

                await AddFolderAsync(tar, context.KeysRoot, KeysPrefix, cancellationToken);
            }

            File.Move(partial, target, overwrite: true);
            var size = new FileInfo(target).Length;
            return $"Backup written to {target} ({size} bytes): {context.Database.ProviderKind} database, {files} stored file(s).";
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }

            work.Delete(recursive: true);
        }
    }

    private static async Task<string> RestoreAsync(Context context, string source, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("aap-restore-");
        try
        {
            Manifest? manifest = null;
            string? database = null;
            var files = 0;
            var filesRoot = Path.GetFullPath(context.FilesRoot);
            await using (var stream = File.OpenRead(source))
            await using (var gzip = new GZipStream(stream, CompressionMode.Decompress))
            await using (var tar = new TarReader(gzip))
            {
                while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    {
                        continue;
                    }

                    if (entry.Name == ManifestEntry)
                    {
                        manifest = await JsonSerializer.DeserializeAsync<Manifest>(entry.DataStream!, JsonOptions, cancellationToken);
                        Check(manifest, context);
                    }
                    else if (entry.Name is SqliteEntry or PostgresEntry)
                    {
                        database = Path.Combine(work.FullName, "database");
                        await entry.ExtractToFileAsync(database, overwrite: true, cancellationToken);
                    }
                    else if (entry.Name.StartsWith(FilesPrefix, StringComparison.Ordinal) && context.Storage.ProviderKind == StorageProvider.Local)
                    {
                        await entry.ExtractToFileAsync(Inside(filesRoot, entry.Name[FilesPrefix.Length..]), overwrite: true, cancellationToken);
                        files++;
                    }
                    else if (entry.Name.StartsWith(KeysPrefix, StringComparison.Ordinal))
                    {
                        await entry.ExtractToFileAsync(Inside(context.KeysRoot, entry.Name[KeysPrefix.Length..]), overwrite: true, cancellationToken);
                    }
                }
            }

            if (manifest is null || database is null)
            {
                throw new InvalidOperationException($"restore: {source} is not an archive written by aap backup (no {ManifestEntry} or no database).");
            }

            if (context.Database.ProviderKind == DatabaseProvider.Sqlite)
            {
                SqliteRestore(database, context.Database.ConnectionString);
            }
            else
            {
                await PostgresTools.RestoreAsync(context.Database.ConnectionString, database, cancellationToken);
            }

            return $"Restored the {manifest.Provider} database of {manifest.CreatedAt:u} and {files} stored file(s) from {source}.";
        }
        catch (Exception ex) when (ex is InvalidDataException or JsonException or EndOfStreamException or FormatException)
        {
            throw new InvalidOperationException($"restore: {source} is not a readable backup archive ({ex.Message})", ex);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static void Check(Manifest? manifest, Context context)
    {
        if (manifest is null || manifest.Format != Format)
        {
            throw new InvalidOperationException($"restore: unknown archive format {manifest?.Format}; this version reads format {Format}.");
        }

        if (!string.Equals(manifest.Provider, context.Database.ProviderKind.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"restore: the archive holds a {manifest.Provider} database but Database:Provider is {context.Database.ProviderKind}; restore it with the provider it was taken from.");
        }
    }

    /// <summary>A path under <paramref name="root"/>; an entry that would leave it (<c>../</c>, an absolute name) is refused.</summary>
    private static string Inside(string root, string relative)
    {
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"restore: the archive entry '{relative}' points outside {root}.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }

    private static async Task<int> AddFolderAsync(TarWriter tar, string root, string prefix, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var count = 0;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = prefix + Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            try
            {
                await tar.WriteEntryAsync(file, name, cancellationToken);
                count++;
            }
            catch (FileNotFoundException)
            {
                // Deleted (a purge, a failed upload's clean-up) between listing and reading: no longer part of the data.
            }
        }

        return count;
    }

    private static async Task SqliteBackupAsync(string connectionString, string target, CancellationToken cancellationToken)
    {
        var source = new SqliteConnectionStringBuilder(connectionString);
        if (!File.Exists(source.DataSource))
        {
            throw new InvalidOperationException($"backup: no SQLite database at {Path.GetFullPath(source.DataSource)} (ConnectionStrings:Default / AAP_DATA_DIR).");
        }

        source.Mode = SqliteOpenMode.ReadOnly;
        await using var connection = new SqliteConnection(source.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var vacuum = connection.CreateCommand();
        // One read transaction: the copy is the database as of one moment, however busy the writers are.
        vacuum.CommandText = "VACUUM INTO $target";
        vacuum.Parameters.AddWithValue("$target", target);
        vacuum.CommandTimeout = 0;
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void SqliteRestore(string backup, string connectionString)
    {
        var target = new SqliteConnectionStringBuilder(connectionString);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target.DataSource))!);
        target.Mode = SqliteOpenMode.ReadWriteCreate;
        target.Pooling = false;
        using var from = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = backup, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        using var to = new SqliteConnection(target.ConnectionString);
        from.Open();
        to.Open();
        // The online backup API, page by page into the configured database (its WAL included), not a file copy.
        from.BackupDatabase(to);
    }

    /// <summary>The PostgreSQL client tools, run with the connection string's settings in libpq's variables.</summary>
    private static class PostgresTools
    {
        public static Task DumpAsync(string connectionString, string target, CancellationToken cancellationToken) =>
            RunAsync("pg_dump", connectionString, ["--format=custom", "--no-owner", "--no-privileges", "--file", target], cancellationToken);

        public static Task RestoreAsync(string connectionString, string dump, CancellationToken cancellationToken) =>
            RunAsync("pg_restore", connectionString,
                ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname", Database(connectionString), dump],
                cancellationToken);

        private static string Database(string connectionString) =>
            new NpgsqlConnectionStringBuilder(connectionString).Database is { Length: > 0 } name ? name
            : Environment.GetEnvironmentVariable("PGDATABASE") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : throw new InvalidOperationException("ConnectionStrings:Default names no Database (nor does PGDATABASE).");

        private static async Task RunAsync(string tool, string connectionString, IEnumerable<string> args, CancellationToken cancellationToken)
        {
            var path = Find(tool) ?? throw new InvalidOperationException(
                $"{tool} was not found on PATH: a PostgreSQL backup needs the PostgreSQL client tools (pg_dump and pg_restore, the server's major version or newer), e.g. apt-get install postgresql-client.");
            var settings = new NpgsqlConnectionStringBuilder(connectionString);
            var start = new ProcessStartInfo(path)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            // What the connection string leaves out, libpq takes from the PG* variables already set, as Npgsql does.
            if (settings.Host is { Length: > 0 } host)
            {
                start.Environment["PGHOST"] = host;
                start.Environment["PGPORT"] = settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            start.Environment["PGDATABASE"] = Database(connectionString);
            if (settings.Username is { Length: > 0 } user)
            {
                start.Environment["PGUSER"] = user;
            }

            if (settings.Password is { Length: > 0 } password)
            {
                start.Environment["PGPASSWORD"] = password;
            }

            start.Environment["PGSSLMODE"] = settings.SslMode switch
            {
                SslMode.Prefer when Environment.GetEnvironmentVariable("PGSSLMODE") is { Length: > 0 } inherited => inherited,
                SslMode.Disable => "disable",
                SslMode.Allow => "allow",
                SslMode.Require => "require",
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                _ => "prefer",
            };

            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} failed (exit code {process.ExitCode}): {(await error).Trim()}");
            }
        }

        private static string? Find(string tool) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder, tool))
                .FirstOrDefault(File.Exists);
    }
}
