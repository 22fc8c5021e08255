using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Aap.Api.Features.Imports;
using Spectre.Console;

namespace Aap.Api.Cli;

/// <summary>
/// <c>aap import csv FILE --table NAME [...]</c>: imports a CSV/TSV file (optionally gzip) into a table of its own.
/// Exit codes: 0 loaded (or, with --dry-run, checked), 2 bad input or options (nothing written), 3 aborted by the
/// reject limit (nothing written), 1 anything else (the database failed; see the log).
/// </summary>
internal static class ImportCommand
{
    public const int Loaded = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int RejectLimit = 3;

    public static Command Create(IServiceProvider services)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The CSV or TSV file (gzip is recognised by its content)." };
        var table = new Option<string>("--table") { Description = "The target table (snake_case; PostgreSQL schema imports, SQLite prefix import_).", Required = true };
        var key = new Option<string?>("--key") { Description = "The primary key column; without it the table gets a generated id." };
        var required = new Option<string[]>("--required") { Description = "Columns a row must have a value in (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };
        var booleans = new Option<string[]>("--bool") { Description = "Columns read as booleans (true/false, yes/no, y/n, 1/0, t/f).", AllowMultipleArgumentsPerToken = true };
        var defaults = new Option<string[]>("--default") { Description = "COLUMN=VALUE: the value used where the column is empty or null (repeatable)." };
        var types = new Option<string[]>("--type") { Description = "COLUMN=TYPE: integer, bigint, decimal, boolean, date, timestamp or text (repeatable)." };
        var nulls = new Option<string[]>("--null") { Description = "Field values read as null (default: NULL, NA, N/A; an empty field always is).", AllowMultipleArgumentsPerToken = true };
        var mode = new Option<ImportMode>("--mode") { Description = "create (default), append, replace or upsert.", DefaultValueFactory = _ => ImportMode.Create };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read and check everything, write the rejects, change nothing in the database." };
        var rejects = new Option<FileInfo?>("--rejects") { Description = "Write refused rows to this CSV (line, column, reason, row)." };
        var delimiter = new Option<string?>("--delimiter") { Description = "The field delimiter: one character, or tab (default: detected from the header)." };
        var noQuotes = new Option<bool>("--no-quotes") { Description = "Read \" as an ordinary character (default: RFC 4180 quoting)." };
        var encoding = new Option<string?>("--encoding") { Description = "The file's encoding: utf-8 (default; a BOM wins), latin1, windows-1252, utf-16..." };
        var noTrim = new Option<bool>("--no-trim") { Description = "Keep white space around fields." };
        var maxRejects = new Option<long?>("--max-rejects") { Description = "Abort (writing nothing) when more rows than this are rejected." };
        var maxRejectRatio = new Option<double?>("--max-reject-ratio") { Description = "Abort (writing nothing) when more than this share (0-1) of the rows is rejected." };
        var maxRecord = new Option<int>("--max-record-chars") { Description = "The longest record accepted, in characters.", DefaultValueFactory = _ => new CsvImportOptions { Table = "_" }.MaxRecordChars };
        var chunk = new Option<int>("--chunk-rows") { Description = "Rows per progress report and log event.", DefaultValueFactory = _ => new CsvImportOptions { Table = "_" }.ChunkRows };
        var sample = new Option<int>("--sample-rows") { Description = "Rows read to infer the column types.", DefaultValueFactory = _ => new CsvImportOptions { Table = "_" }.SampleRows };

        var csv = new Command("csv", "Import a CSV/TSV file into a table (exit codes: 0 loaded, 2 bad input or options, 3 reject limit reached, 1 other failure).")
        {
            file, table, key, required, booleans, defaults, types, nulls, mode, dryRun, rejects, delimiter, noQuotes, encoding, noTrim, maxRejects, maxRejectRatio, maxRecord, sample, chunk,
        };
        csv.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var options = new CsvImportOptions
            {
                Table = parse.GetRequiredValue(table),
                Key = parse.GetValue(key),
                Mode = parse.GetValue(mode),
                Required = List(parse.GetValue(required)),
                Booleans = List(parse.GetValue(booleans)),
                Defaults = Pairs(parse.GetValue(defaults), "--default", problems),
                Types = Pairs(parse.GetValue(types), "--type", problems).ToDictionary(p => p.Key, p => ParseType(p.Key, p.Value, problems)),
                NullValues = parse.GetValue(nulls) is { Length: > 0 } given ? List(given) : new CsvImportOptions { Table = "_" }.NullValues,
                DryRun = parse.GetValue(dryRun),
                RejectsPath = parse.GetValue(rejects)?.FullName,
                Delimiter = ParseDelimiter(parse.GetValue(delimiter), problems),
                Quoted = !parse.GetValue(noQuotes),
                Encoding = parse.GetValue(encoding),
                Trim = !parse.GetValue(noTrim),
                MaxRejects = parse.GetValue(maxRejects),
                MaxRejectRatio = parse.GetValue(maxRejectRatio),
                MaxRecordChars = parse.GetValue(maxRecord),
                SampleRows = parse.GetValue(sample),
                ChunkRows = parse.GetValue(chunk),
            };
            if (problems.Count > 0)
            {
                await error.WriteLineAsync($"aap import csv: {string.Join(" ", problems)}");
                return BadInput;
            }

            var path = parse.GetRequiredValue(file).FullName;
            await using var scope = services.CreateAsyncScope();
            var importer = scope.ServiceProvider.GetRequiredService<CsvImportService>();
            var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            var result = terminal
                ? await WithProgressBarAsync(importer, path, options, cancellationToken)
                : await importer.ImportAsync(path, options, new PlainProgress(output), cancellationToken);
            if (!result.Succeeded)
            {
                await error.WriteLineAsync($"aap import csv: {result.Failure.Detail} ({result.Failure.Code})");
                return result.Failure.Code == ImportProblemCodes.RejectLimit ? RejectLimit : BadInput;
            }

            var s = result.Value;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(s.DryRun ? "Dry run (nothing written): " : "")}{s.RowsRead} row(s) read, {s.RowsLoaded} {(s.DryRun ? "valid" : "loaded")}, {s.RowsRejected} rejected " +
                $"into {s.Table}{(s.Created ? " (created)" : "")}, key {s.Key}, in {s.Elapsed.TotalSeconds:0.##} s ({s.RowsPerSecond:0} rows/s). Import {s.ImportId}."));
            await output.WriteLineAsync($"Columns: {string.Join(", ", s.Columns.Select(c => $"{c.Name} {c.Type.ToString().ToLowerInvariant()}"))}.");
            foreach (var (reason, count) in s.RejectedByReason.OrderByDescending(r => r.Value))
            {
                await output.WriteLineAsync($"Rejected {count}: {reason}");
            }

            return Loaded;
        });
        return new Command("import", "Import data files into tables of their own.") { csv };
    }

    private static List<string> List(string[]? values) =>
        values is null ? [] : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];

    private static Dictionary<string, string> Pairs(string[]? values, string option, List<string> problems)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var at = value.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                problems.Add($"{option} takes COLUMN=VALUE, not '{value}'.");
                continue;
            }

            pairs[value[..at].Trim()] = value[(at + 1)..];
        }

        return pairs;
    }

    private static ImportColumnType ParseType(string column, string value, List<string> problems)
    {
        if (Enum.TryParse<ImportColumnType>(value.Trim(), ignoreCase: true, out var type) && Enum.IsDefined(type) && !int.TryParse(value, CultureInfo.InvariantCulture, out _))
        {
            return type;
        }

        problems.Add($"--type {column}={value}: the type must be integer, bigint, decimal, boolean, date, timestamp or text.");
        return ImportColumnType.Text;
    }

    private static char? ParseDelimiter(string? value, List<string> problems) => string.IsNullOrEmpty(value)
        ? null
        : CsvSource.ParseDelimiter(value) ?? Problem(problems, $"--delimiter must be one printable ASCII character other than the quote, or 'tab', not '{value}'.");

    private static char? Problem(List<string> problems, string message)
    {
        problems.Add(message);
        return null;
    }

    /// <summary>A progress bar (rows, MB, rows/s, time left) on a terminal.</summary>
    private static async Task<Platform.Http.Result<ImportSummary>> WithProgressBarAsync(CsvImportService importer, string path, CsvImportOptions options,
        CancellationToken cancellationToken)
    {
        Platform.Http.Result<ImportSummary> result = default;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"Importing {Path.GetFileName(path)}", maxValue: 1);
                var progress = new InlineProgress(p =>
                {
                    if (p.TotalBytes is > 0)
                    {
                        task.MaxValue = p.TotalBytes.Value;
                        task.Value = p.BytesRead;
                    }
                    else
                    {
                        task.IsIndeterminate = true;
                    }

                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"{p.Phase}: {p.RowsRead:N0} rows, {p.BytesRead / 1048576.0:0.0} MB, {p.RowsPerSecond:N0} rows/s, {p.RowsRejected:N0} rejected");
                });
                result = await importer.ImportAsync(path, options, progress, cancellationToken);
                task.Value = task.MaxValue;
            });
        return result;
    }

    private sealed class InlineProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }

    /// <summary>Progress as plain lines (a log file, a pipe): the first report of each phase, then one a second at most.</summary>
    private sealed class PlainProgress(TextWriter output) : IProgress<ImportProgress>
    {
        private ImportPhase? _phase;
        private TimeSpan _last = TimeSpan.MinValue;

        public void Report(ImportProgress value)
        {
            if (value.Phase == _phase && value.Elapsed - _last < TimeSpan.FromSeconds(1) && value.Phase == ImportPhase.Reading && value.RowsRead > 0 && _last != TimeSpan.MinValue)
            {
                return;
            }

            _phase = value.Phase;
            _last = value.Elapsed;
            var eta = value.Remaining is { } left ? $", about {left.TotalSeconds:0} s left" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{value.Phase.ToString().ToLowerInvariant()}: {value.RowsRead} rows, {value.BytesRead / 1048576.0:0.0} MB, {value.RowsPerSecond:0} rows/s, {value.RowsRejected} rejected{eta}"));
            output.Flush();
        }
    }
}
