using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Aap.Api.Cli;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Imports;
using Aap.Api.Platform.Http;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// <c>aap import csv</c> and <see cref="CsvImportService"/> on both providers: type inference, the cleaning rules,
/// quoting, encodings, gzip, schema checks, reject limits, dry runs, modes, hostile identifiers and bad files. The
/// files are made by each test; the database is checked afterwards.
/// </summary>
public abstract class CsvImportTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _folder = Directory.CreateTempSubdirectory("aap-import-").FullName;

    private bool IsPostgres => factory is PostgresFactory;

    /// <summary>How the provider shows a boolean read back.</summary>
    private string B(bool value) => IsPostgres ? (value ? "true" : "false") : (value ? "1" : "0");

    [Fact]
    public async Task Types_are_inferred_from_a_sample_and_can_be_overridden_per_column()
    {
        var file = Write("types.csv",
            "Count,Big,Price,Flag,Day,At,Code,Note,Empty\n" +
            "1,5000000000,1.50,true,2024-01-02,2024-01-02T09:30:00Z,007,hello,\n" +
            "-2,-1,2,FALSE,2024-02-29,2024-02-29 10:00:00+02:00,010,world,\n");

        var (exit, output, error) = await CliAsync(file, "--table", "types", "--type", "note=text", "--type", "Count=bigint");

        exit.ShouldBe(0, error);
        output.ShouldContain("2 row(s) read, 2 loaded, 0 rejected");
        output.ShouldContain("Columns: count bigint, big bigint, price decimal, flag boolean, day date, at timestamp, code text, note text, empty text.");
        var rows = await RowsAsync("types", "id", "count", "big", "price", "flag", "day", "at", "code", "empty");
        rows.ShouldBe([
            ["1", "5000000000", "1.5", B(true), "2024-01-02", "2024-01-02 09:30:00", "007", null],
            ["-2", "-1", "2", B(false), "2024-02-29", "2024-02-29 08:00:00", "010", null],
        ]);
    }

    [Fact]
    public async Task Cleaning_rules_convert_fill_and_reject_rows_and_the_rejects_file_says_why()
    {
        var file = Write("clean.csv",
            "sku,qty,price,active,name\n" +
            "A1, 5 ,1.25,yes,  padded  \n" +   // trimmed
            "A2,NA,2,Y,b\n" +                 // qty null -> default 0
            "A3,3,N/A,t,c\n" +                // price null: allowed
            ",4,1,n,no key\n" +               // key missing
            "A5,4,\"1,5\",f,decimal comma\n" + // not a culture-invariant decimal
            "A6,4,1,maybe,bad bool\n" +       // bad boolean
            "A7,4,1,1,\n" +                   // name required
            "A8,NULL,3,0,h\n" +               // NULL -> default
            "A9,1,2\n");                      // ragged
        var rejects = Path.Combine(_folder, "clean.rejects.csv");

        var (exit, output, error) = await CliAsync(file, "--table", "clean", "--key", "sku", "--required", "name", "--bool", "active",
            "--default", "qty=0", "--type", "price=decimal", "--rejects", rejects);

        exit.ShouldBe(0, error);
        output.ShouldContain("9 row(s) read, 4 loaded, 5 rejected");
        var rows = await RowsAsync("clean", "sku", "sku", "qty", "price", "active", "name");
        rows.ShouldBe([
            ["A1", "5", "1.25", B(true), "padded"],
            ["A2", "0", "2", B(true), "b"],
            ["A3", "3", null, B(true), "c"],
            ["A8", "0", "3", B(false), "h"],
        ]);
        File.ReadAllLines(rejects).ShouldBe([
            "line,column,reason,row",
            "5,sku,missing_required,\",4,1,n,no key\"",
            "6,price,invalid_decimal,\"A5,4,\"\"1,5\"\",f,decimal comma\"",
            "7,active,invalid_boolean,\"A6,4,1,maybe,bad bool\"",
            "8,name,missing_required,\"A7,4,1,1,\"",
            "10,,ragged_row,\"A9,1,2\"",
        ]);
        output.ShouldContain("Rejected 2: missing_required");
    }

    [Fact]
    public async Task Quoted_fields_keep_delimiters_quotes_and_newlines_in_a_CRLF_file_with_a_BOM()
    {
        var file = WriteBytes("quoted.csv", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(
            "id;text;n\r\n1;\"semi; colon\";1\r\n2;\"say \"\"hi\"\"\";2\r\n3;\"two\r\nlines\";3\r\n4;plain;4\r\n")]);

        var (exit, output, error) = await CliAsync(file, "--table", "quoted", "--key", "id");

        exit.ShouldBe(0, error);
        output.ShouldContain("4 row(s) read, 4 loaded");
        (await RowsAsync("quoted", "id", "id", "text", "n")).ShouldBe([
            ["1", "semi; colon", "1"], ["2", "say \"hi\"", "2"], ["3", "two\r\nlines", "3"], ["4", "plain", "4"],
        ]);
    }

    [Fact]
    public async Task Long_texts_that_cross_and_exceed_the_writers_buffer_arrive_whole_beside_the_fields_after_them()
    {
        // Values of 100 KB to 600 KB, several per row, with non-ASCII characters (more bytes than characters) and a
        // number after each: fields start and end at every offset of the COPY writer's buffer, and some exceed it.
        var csv = new StringBuilder("id,text,n,more\n");
        var expected = new List<string[]>();
        for (var i = 1; i <= 8; i++)
        {
            var text = new string((char)('a' + i), 100_000 * (i % 6 + 1)) + "é€" + i.ToString(CultureInfo.InvariantCulture);
            var more = new string('ü', 70_000 * i);
            csv.Append(CultureInfo.InvariantCulture, $"{i},{text},{i * 7},{more}\n");
            expected.Add([i.ToString(CultureInfo.InvariantCulture), text, (i * 7).ToString(CultureInfo.InvariantCulture), more]);
        }

        var file = WriteBytes("long.csv", Encoding.UTF8.GetBytes(csv.ToString()));

        var (exit, output, error) = await CliAsync(file, "--table", "long_texts", "--key", "id", "--type", "n=integer");

        exit.ShouldBe(0, error);
        output.ShouldContain("8 row(s) read, 8 loaded");
        var rows = await RowsAsync("long_texts", "id", "id", "text", "n", "more");
        rows.Count.ShouldBe(8);
        for (var i = 0; i < 8; i++)
        {
            rows[i].SequenceEqual(expected[i]).ShouldBeTrue($"row {i + 1} differs (lengths {string.Join(",", rows[i].Select(v => v?.Length ?? -1))})");
        }
    }

    [Fact]
    public async Task A_tab_separated_gzip_file_is_recognised_by_its_content()
    {
        var path = Path.Combine(_folder, "data.tsv.bin");
        await using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("Key\tValue, with comma\nk1\tone, two\nk2\tthree\n"), Ct);
        }

        var (exit, output, error) = await CliAsync(path, "--table", "gz", "--key", "key");

        exit.ShouldBe(0, error);
        output.ShouldContain("Columns: key_ text, value_with_comma text."); // key is a reserved word
        (await RowsAsync("gz", "key_", "key_", "value_with_comma")).ShouldBe([["k1", "one, two"], ["k2", "three"]]);
    }

    [Fact]
    public async Task A_declared_encoding_is_read_and_undeclared_bytes_that_are_not_UTF8_are_refused()
    {
        var latin1 = WriteBytes("latin1.csv", Encoding.Latin1.GetBytes("name,city\nRené,Zürich\n"));

        var (refused, _, error) = await CliAsync(latin1, "--table", "latin");
        refused.ShouldBe(2);
        error.ShouldContain("not valid utf-8");
        error.ShouldContain("--encoding");
        (await TableExistsAsync("latin")).ShouldBeFalse();

        var (exit, _, loadError) = await CliAsync(latin1, "--table", "latin", "--encoding", "latin1");
        exit.ShouldBe(0, loadError);
        (await RowsAsync("latin", "id", "name", "city")).ShouldBe([["René", "Zürich"]]);

        var (utf7, _, utf7Error) = await CliAsync(latin1, "--table", "latin7", "--encoding", "utf-7");
        utf7.ShouldBe(2, utf7Error);
        utf7Error.ShouldContain("Unknown encoding 'utf-7'");
        var (accented, _, delimiterError) = await CliAsync(latin1, "--table", "latin7", "--delimiter", "é");
        accented.ShouldBe(2, delimiterError);
        delimiterError.ShouldContain("--delimiter");
        (await TableExistsAsync("latin7")).ShouldBeFalse();

        var utf16 = WriteBytes("utf16.csv", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("name\nÅsa\n")]);
        var (bom, _, bomError) = await CliAsync(utf16, "--table", "utf16");
        bom.ShouldBe(0, bomError);
        (await RowsAsync("utf16", "id", "name")).ShouldBe([["Åsa"]]);
    }

    [Fact]
    public async Task A_file_whose_header_does_not_fit_the_existing_table_is_refused_naming_the_column()
    {
        (await CliAsync(Write("fit1.csv", "id,name,qty\n1,a,2\n"), "--table", "fit", "--key", "id")).ExitCode.ShouldBe(0);

        var (extra, _, extraError) = await CliAsync(Write("fit2.csv", "id,name,colour\n2,b,red\n"), "--table", "fit", "--key", "id", "--mode", "append");
        extra.ShouldBe(2);
        extraError.ShouldContain("column 'colour' (colour) is not in the table");
        extraError.ShouldContain("import_schema_mismatch");

        var (typed, _, typedError) = await CliAsync(Write("fit3.csv", "id,name,qty\n2,b,2\n"), "--table", "fit", "--key", "id", "--mode", "append", "--type", "qty=date");
        typed.ShouldBe(2);
        typedError.ShouldContain("The column qty is date in this import but");

        var (created, _, createdError) = await CliAsync(Write("fit4.csv", "id,name,qty\n2,b,2\n"), "--table", "fit", "--key", "id");
        created.ShouldBe(2);
        createdError.ShouldContain("already exists");

        (await RowsAsync("fit", "id", "id", "name", "qty")).ShouldBe([["1", "a", "2"]]);
    }

    [Fact]
    public async Task Reject_limits_abort_the_import_and_write_nothing()
    {
        var file = Write("limits.csv", "id,qty\n1,1\n2,x\n3,y\n4,4\n");

        var (count, _, countError) = await CliAsync(file, "--table", "limits", "--key", "id", "--type", "qty=integer", "--max-rejects", "1");
        count.ShouldBe(3);
        countError.ShouldContain("More than 1 rows were rejected");
        countError.ShouldContain("import_reject_limit");
        (await TableExistsAsync("limits")).ShouldBeFalse();

        var (ratio, _, ratioError) = await CliAsync(file, "--table", "limits", "--key", "id", "--type", "qty=integer", "--max-reject-ratio", "0.25");
        ratio.ShouldBe(3);
        ratioError.ShouldContain("2 of 4 rows were rejected");
        (await TableExistsAsync("limits")).ShouldBeFalse();

        (await CliAsync(file, "--table", "limits", "--key", "id", "--type", "qty=integer", "--max-reject-ratio", "0.5")).ExitCode.ShouldBe(0);
        (await RowsAsync("limits", "id", "id", "qty")).ShouldBe([["1", "1"], ["4", "4"]]);
    }

    [Fact]
    public async Task A_dry_run_checks_everything_and_writes_nothing_to_the_database()
    {
        var file = Write("dry.csv", "id,qty\n1,1\n2,x\n");
        var rejects = Path.Combine(_folder, "dry.rejects.csv");

        var (exit, output, error) = await CliAsync(file, "--table", "dry", "--key", "id", "--type", "qty=integer", "--dry-run", "--rejects", rejects);

        exit.ShouldBe(0, error);
        output.ShouldContain("Dry run (nothing written): 2 row(s) read, 1 valid, 1 rejected");
        File.ReadAllLines(rejects).Length.ShouldBe(2);
        (await TableExistsAsync("dry")).ShouldBeFalse();
    }

    [Fact]
    public async Task Upsert_twice_updates_rows_without_duplicating_them_and_append_refuses_a_known_key()
    {
        var first = Write("up1.csv", "id,name\n1,one\n2,two\n2,two again\n");
        var second = Write("up2.csv", "id,name\n2,TWO\n3,three\n");

        (await CliAsync(first, "--table", "up", "--key", "id", "--mode", "upsert")).ExitCode.ShouldBe(0);
        (await CliAsync(second, "--table", "up", "--key", "id", "--mode", "upsert")).ExitCode.ShouldBe(0);
        (await CliAsync(second, "--table", "up", "--key", "id", "--mode", "upsert")).ExitCode.ShouldBe(0);
        (await RowsAsync("up", "id", "id", "name")).ShouldBe([["1", "one"], ["2", "TWO"], ["3", "three"]]);

        var (append, _, appendError) = await CliAsync(second, "--table", "up", "--key", "id", "--mode", "append");
        append.ShouldBe(2);
        appendError.ShouldContain("already in");
        (await RowsAsync("up", "id", "id", "name")).ShouldBe([["1", "one"], ["2", "TWO"], ["3", "three"]]);

        (await CliAsync(second, "--table", "up", "--key", "id", "--mode", "replace")).ExitCode.ShouldBe(0);
        (await RowsAsync("up", "id", "id", "name")).ShouldBe([["2", "TWO"], ["3", "three"]]);
    }

    [Fact]
    public async Task A_new_table_refuses_a_key_that_is_twice_in_the_file_and_writes_nothing()
    {
        var (exit, _, error) = await CliAsync(Write("twice.csv", "id,name\n1,a\n2,b\n1,c\n"), "--table", "twice", "--key", "id");

        exit.ShouldBe(2);
        error.ShouldContain("A key is twice in the file");
        (await TableExistsAsync("twice")).ShouldBeFalse();
    }

    [Fact]
    public async Task Identifiers_that_try_SQL_injection_become_plain_names_and_users_is_untouched()
    {
        var users = await factory.DbAsync(db => db.Set<User>().CountAsync(Ct));
        var file = Write("evil.csv", "\"a\"\"; DROP TABLE users; --\",select,id,\n1,2,3,4\n");

        var (exit, output, error) = await CliAsync(file, "--table", "users\"; DROP TABLE users; --");

        exit.ShouldBe(0, error);
        output.ShouldContain("Columns: a_drop_table_users integer, select_ integer, id integer, column_4 integer.");
        output.ShouldContain("key import_id");
        (await RowsAsync("users_drop_table_users", "import_id", "a_drop_table_users", "select_", "id", "column_4")).ShouldBe([["1", "2", "3", "4"]]);
        (await factory.DbAsync(db => db.Set<User>().CountAsync(Ct))).ShouldBe(users);

        var (usersTable, _, _) = await CliAsync(Write("users.csv", "id,user_name\n1,x\n"), "--table", "users", "--key", "id");
        usersTable.ShouldBe(0);
        (await factory.DbAsync(db => db.Set<User>().CountAsync(Ct))).ShouldBe(users);
    }

    [Fact]
    public async Task An_empty_file_a_header_only_file_and_a_missing_file_are_refused_clearly()
    {
        var (empty, _, emptyError) = await CliAsync(Write("empty.csv", ""), "--table", "empty");
        empty.ShouldBe(2);
        emptyError.ShouldContain("The file is empty");

        var (header, _, headerError) = await CliAsync(Write("header.csv", "a,b\r\n"), "--table", "header");
        header.ShouldBe(2);
        headerError.ShouldContain("no data rows");
        (await TableExistsAsync("header")).ShouldBeFalse();

        var (missing, _, missingError) = await CliAsync(Path.Combine(_folder, "nope.csv"), "--table", "nope");
        missing.ShouldBe(2);
        missingError.ShouldContain("cannot be opened");

        var (badOption, _, badOptionError) = await CliAsync(Write("opts.csv", "a\n1\n"), "--table", "opts", "--required", "b", "--type", "a=money");
        badOption.ShouldBe(2);
        badOptionError.ShouldContain("the type must be integer");

        var (unknown, _, unknownError) = await CliAsync(Write("opts.csv", "a\n1\n"), "--table", "opts", "--required", "b");
        unknown.ShouldBe(2);
        unknownError.ShouldContain("The file has no column 'b'");

        var (upsert, _, upsertError) = await CliAsync(Write("opts.csv", "a\n1\n"), "--table", "opts", "--mode", "upsert");
        upsert.ShouldBe(2);
        upsertError.ShouldContain("Upsert needs a key");
    }

    [Fact]
    public async Task A_single_2_GB_line_is_refused_with_a_clear_error_after_reading_only_a_few_megabytes()
    {
        var endless = new OneLongLine(2L * 1024 * 1024 * 1024);

        var result = await factory.ServiceAsync<CsvImportService, Result<ImportSummary>>(s =>
            s.ImportAsync(endless, endless.Length, new CsvImportOptions { Table = "huge" }, null, Ct));

        result.Succeeded.ShouldBeFalse();
        result.Failure.Code.ShouldBe(ImportProblemCodes.InvalidFile);
        result.Failure.Detail.ShouldContain("The record that starts on line 1 is longer than 4,194,304 characters");
        // Memory stays flat: the reader stopped at the limit (plus its buffers) instead of buffering the line.
        endless.Served.ShouldBeLessThan(16L * 1024 * 1024);
        (await TableExistsAsync("huge")).ShouldBeFalse();

        var body = new OneLongLine(64L * 1024 * 1024, header: "a,b\n1,");
        var second = await factory.ServiceAsync<CsvImportService, Result<ImportSummary>>(s =>
            s.ImportAsync(body, body.Length, new CsvImportOptions { Table = "huge", MaxRecordChars = 1024 * 1024 }, null, Ct));
        second.Failure!.Detail.ShouldContain("The record that starts on line 2 is longer than 1,048,576 characters");
        body.Served.ShouldBeLessThan(8L * 1024 * 1024);
    }

    [Fact]
    public async Task The_service_reports_progress_per_chunk_and_a_summary_with_the_reasons()
    {
        var lines = new StringBuilder("n,label\n");
        for (var i = 1; i <= 2500; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"{i},{(i % 1000 == 0 ? "" : "x")}\n");
        }

        var reports = new List<ImportProgress>();
        var result = await factory.ServiceAsync<CsvImportService, Result<ImportSummary>>(s => s.ImportAsync(Write("chunks.csv", lines.ToString()),
            new CsvImportOptions { Table = "chunks", Key = "n", Required = ["label"], ChunkRows = 1000 }, new Collect(reports), Ct));

        result.Succeeded.ShouldBeTrue(result.Failure?.Detail);
        var summary = result.Value;
        (summary.RowsRead, summary.RowsLoaded, summary.RowsRejected, summary.Created).ShouldBe((2500L, 2498L, 2L, true));
        summary.RejectedByReason.ShouldBe(new Dictionary<string, long> { ["missing_required"] = 2 });
        summary.FirstRejects.Select(r => r.Line).ShouldBe([1001L, 2001L]);
        summary.Table.ShouldBe(IsPostgres ? "imports.chunks" : "import_chunks");
        reports.Where(r => r.Phase == ImportPhase.Reading).Select(r => r.RowsRead).ShouldBe([0L, 1000L, 2000L, 2500L]);
        reports.Select(r => r.Phase).Distinct().ShouldBe([ImportPhase.Reading, ImportPhase.Committing, ImportPhase.Done]);
        (await RowsAsync("chunks", "n", "n")).Count.ShouldBe(2498);
    }

    private sealed class Collect(List<ImportProgress> reports) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => reports.Add(value);
    }

    /// <summary>A header, then one line of <c>x</c> as long as asked, made on the fly.</summary>
    private sealed class OneLongLine(long length, string header = "") : Stream
    {
        private readonly byte[] _header = Encoding.ASCII.GetBytes(header);

        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - Served);
            for (var i = 0; i < n; i++)
            {
                var at = Served + i;
                buffer[offset + i] = at < _header.Length ? _header[at] : (byte)'x';
            }

            Served += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    internal string Write(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    private string WriteBytes(string name, byte[] content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    internal async Task<(int ExitCode, string Output, string Error)> CliAsync(string file, params string[] args)
    {
        var root = new RootCommand { ImportCommand.Create(factory.Services) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await root.Parse(["import", "csv", file, .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, Ct);
        return (exitCode, output.ToString(), error.ToString());
    }

    private string Table(string table) => IsPostgres ? $"imports.\"{table}\"" : $"\"import_{table}\"";

    internal Task<bool> TableExistsAsync(string table) => factory.DbAsync(async db =>
    {
        var sql = IsPostgres
            ? $"SELECT count(*)::int AS \"Value\" FROM pg_tables WHERE schemaname = 'imports' AND tablename = '{table}'"
            : $"SELECT count(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = 'import_{table}'";
        return await db.Database.SqlQueryRaw<int>(sql).SingleAsync(Ct) == 1;
    });

    /// <summary>The table's rows ordered by <paramref name="orderBy"/>, as text the same on both providers (booleans aside, see <see cref="B"/>).</summary>
    internal Task<List<string?[]>> RowsAsync(string table, string orderBy, params string[] columns) => factory.DbAsync(async db =>
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(Ct);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns.Select(c => $"\"{c}\""))} FROM {Table(table)} ORDER BY \"{orderBy}\"";
        var rows = new List<string?[]>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            var row = new string?[columns.Length];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.GetValue(i) switch
                {
                    DBNull => null,
                    bool b => b ? "true" : "false",
                    decimal m => m.ToString("G29", CultureInfo.InvariantCulture), // PostgreSQL keeps the scale of 1.50, SQLite does not
                    DateTime d when d.TimeOfDay == TimeSpan.Zero => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateTime d => d.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    var other => other.ToString(),
                };
            }

            rows.Add(row);
        }

        return rows;
    });

    public sealed class OnSqlite(SqliteFactory factory) : CsvImportTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CsvImportTests(factory), IClassFixture<PostgresFactory>;
}
