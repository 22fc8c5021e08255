using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// <c>aap import csv</c> in a process of its own, killed (SIGKILL) while it reads: the target keeps its rows, and
/// running the import again loads the file once, completely.
/// </summary>
public abstract class CsvImportKillTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_process_killed_mid_import_leaves_the_target_as_it_was_and_a_rerun_loads_every_row_once()
    {
        var tests = new Helper(factory);
        var folder = Directory.CreateTempSubdirectory("aap-import-kill-").FullName;
        (await tests.CliAsync(tests.Write("before.csv", "id,name\n1,old one\n2,old two\n"), "--table", "killed", "--key", "id")).ExitCode.ShouldBe(0);

        // A named pipe as the file: the child reads what this test writes, for as long as the test writes.
        var fifo = Path.Combine(folder, "rows.csv");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync(Ct);
            mkfifo.ExitCode.ShouldBe(0);
        }

        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["Log__ConsoleEnabled"] = "false",
            ["AAP_DATA_DIR"] = factory is PostgresFactory ? Path.Combine(folder, "data") : factory.DataDirectory,
            ["Database__Provider"] = factory is PostgresFactory ? "Postgres" : "Sqlite",
            ["Database__MigrateOnStart"] = "false",
        };
        if (factory is PostgresFactory postgres)
        {
            environment["ConnectionStrings__Default"] = postgres.ConnectionString;
        }

        using var child = Process.Start(ServiceCommand.StartInfo(folder, environment,
            ["import", "csv", fifo, "--table", "killed", "--key", "id", "--mode", "upsert", "--chunk-rows", "1000"]))!;
        var output = new StringBuilder();
        var staged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                staged.TrySetException(new InvalidOperationException($"The import ended before it was killed:\n{output}"));
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            // "reading: 5000 rows, ...": past the sample, so rows are in the stage.
            if (e.Data.StartsWith("reading: ", StringComparison.Ordinal) &&
                long.Parse(e.Data["reading: ".Length..e.Data.IndexOf(' ', "reading: ".Length)], CultureInfo.InvariantCulture) >= 3000)
            {
                staged.TrySetResult();
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();

        // Rows until the reader is gone: every id gets a new name, so a partial load would show.
        var writer = Task.Run(async () =>
        {
            try
            {
                await using var pipe = new StreamWriter(new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.Read, 1));
                await pipe.WriteAsync("id,name\n");
                for (var id = 1; ; id++)
                {
                    await pipe.WriteAsync($"{id},new {id}\n");
                    if (id % 1000 == 0)
                    {
                        await pipe.FlushAsync(Ct);
                    }
                }
            }
            catch (IOException)
            {
                // The child was killed: the pipe has no reader any more.
            }
        }, Ct);

        try
        {
            await staged.Task.WaitAsync(TimeSpan.FromMinutes(2), Ct);
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync(Ct);
        }

        await writer.WaitAsync(TimeSpan.FromMinutes(1), Ct);
        (await tests.RowsAsync("killed", "id", "id", "name")).ShouldBe([["1", "old one"], ["2", "old two"]], output.ToString());
        if (factory is PostgresFactory)
        {
            (await StagesAsync()).ShouldBe(1, "the killed import's stage is left behind until the next import sweeps it");

            // The server ends the killed process's session, and frees its stage's lock, once it reads the closed
            // socket: the rerun's sweep takes only stages whose lock is free, so it must come after that.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await AdvisoryLocksAsync() > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Ct);
            }
        }

        var file = new StringBuilder("id,name\n");
        for (var id = 1; id <= 5000; id++)
        {
            file.Append(CultureInfo.InvariantCulture, $"{id},new {id}\n");
        }

        var (exit, _, error) = await tests.CliAsync(tests.Write("after.csv", file.ToString()), "--table", "killed", "--key", "id", "--mode", "upsert");
        exit.ShouldBe(0, error);
        var rows = await tests.RowsAsync("killed", "id", "id", "name");
        rows.Count.ShouldBe(5000);
        rows[0].ShouldBe(["1", "new 1"]);
        rows[^1].ShouldBe(["5000", "new 5000"]);
        if (factory is PostgresFactory)
        {
            (await StagesAsync()).ShouldBe(0);
        }

        Directory.Delete(folder, recursive: true);
    }

    private Task<int> AdvisoryLocksAsync() => factory.DbAsync(db =>
        db.Database.SqlQueryRaw<int>(
            "SELECT count(*)::int AS \"Value\" FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
            .SingleAsync(Ct));

    private Task<int> StagesAsync() => factory.DbAsync(db =>
        db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_tables WHERE schemaname = 'imports_stage'").SingleAsync(Ct));

    /// <summary>The other tests' helpers (files, the command, the rows), on this class's factory.</summary>
    private sealed class Helper(AapFactory factory) : CsvImportTests(factory);

    public sealed class OnSqlite(SqliteFactory factory) : CsvImportKillTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CsvImportKillTests(factory), IClassFixture<PostgresFactory>;
}
