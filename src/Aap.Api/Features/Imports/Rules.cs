using Aap.Api.Platform.Http;
using nietras.SeparatedValues;

namespace Aap.Api.Features.Imports;

/// <summary>Column options by column index (the options name columns by normalised name or header text).</summary>
internal sealed record ResolvedColumnOptions(int? Key, HashSet<int> Required, Dictionary<int, ImportColumnType> Types, Dictionary<int, string> Defaults);

/// <summary>Why a row was refused: the reason code, the column to blame (none for a ragged row) and what was wrong.</summary>
internal readonly record struct RowReject(string Reason, string? Column, string Detail);

/// <summary>
/// The cleaning rules of every column, applied field by field: trim, null tokens, the default for a null, the
/// required check (the key is always required), then the typed parse. The first field that fails rejects the row.
/// </summary>
internal sealed class Rules
{
    public const string RaggedRow = "ragged_row";
    public const string MissingRequired = "missing_required";

    private readonly ImportColumn[] _columns;
    private readonly bool[] _required;
    private readonly ImportValue?[] _defaults;
    private readonly string[] _nulls;
    private readonly bool _trim;

    /// <summary>The current row's text values, copied here instead of one string each (the row is written before the next is read).</summary>
    private char[] _arena = new char[4096];
    private int _used;

    private Rules(ImportColumn[] columns, bool[] required, ImportValue?[] defaults, string[] nulls, bool trim)
    {
        _columns = columns;
        _required = required;
        _defaults = defaults;
        _nulls = nulls;
        _trim = trim;
    }

    public int Count => _columns.Length;

    public static Result<Rules> Create(LoadPlan plan, ResolvedColumnOptions resolved, CsvImportOptions options)
    {
        var columns = plan.Columns.ToArray();
        var required = new bool[columns.Length];
        var defaults = new ImportValue?[columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            required[i] = resolved.Required.Contains(i) || (!plan.GeneratedKey && columns[i].Name == plan.Key);
            if (resolved.Defaults.TryGetValue(i, out var text))
            {
                var value = default(ImportValue);
                var trimmed = text.AsSpan().Trim();
                if (!ImportValues.TryParse(trimmed, columns[i].Type, ref value))
                {
                    return Failure.Of(StatusCodes.Status400BadRequest, ImportProblemCodes.InvalidOptions,
                        $"The default '{text}' of column {columns[i].Name} is not a valid {ImportValues.Describe(columns[i].Type)}.", "defaults");
                }

                defaults[i] = value;
            }
        }

        return new Rules(columns, required, defaults, [.. options.NullValues.Select(n => n.Trim())], options.Trim);
    }

    /// <summary>As the other overload, over an array: no enumerator per field (the list's cost more than the test itself).</summary>
    private static bool IsNull(ReadOnlySpan<char> text, string[] nulls)
    {
        if (text.IsEmpty)
        {
            return true;
        }

        foreach (var token in nulls)
        {
            if (text.Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsNull(ReadOnlySpan<char> text, IReadOnlyList<string> nulls)
    {
        if (text.IsEmpty)
        {
            return true;
        }

        foreach (var token in nulls)
        {
            if (text.Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public RowReject? Clean(string[] fields, Span<ImportValue> values)
    {
        if (fields.Length != _columns.Length)
        {
            return Ragged(fields.Length);
        }

        _used = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            if (Field(i, fields[i], ref values[i]) is { } reject)
            {
                return reject;
            }
        }

        return null;
    }

    public RowReject? Clean(SepReader.Row row, Span<ImportValue> values)
    {
        if (row.ColCount != _columns.Length)
        {
            return Ragged(row.ColCount);
        }

        _used = 0;
        for (var i = 0; i < _columns.Length; i++)
        {
            if (Field(i, row[i].Span, ref values[i]) is { } reject)
            {
                return reject;
            }
        }

        return null;
    }

    private ReadOnlyMemory<char> Keep(ReadOnlySpan<char> text)
    {
        if (_arena.Length - _used < text.Length)
        {
            // The values already kept stay in the old array.
            _arena = new char[Math.Max(_arena.Length * 2, text.Length)];
            _used = 0;
        }

        text.CopyTo(_arena.AsSpan(_used));
        var kept = _arena.AsMemory(_used, text.Length);
        _used += text.Length;
        return kept;
    }

    private RowReject Ragged(int count) =>
        new(RaggedRow, null, $"The row has {count} field(s); the header has {_columns.Length}.");

    private RowReject? Field(int i, ReadOnlySpan<char> text, ref ImportValue value)
    {
        if (_trim)
        {
            text = text.Trim();
        }

        if (IsNull(text, _nulls))
        {
            if (_defaults[i] is { } fallback)
            {
                value = fallback;
                return null;
            }

            if (_required[i])
            {
                return new RowReject(MissingRequired, _columns[i].Name, $"The column {_columns[i].Name} is required and has no value.");
            }

            value.IsNull = true;
            value.Text = default;
            return null;
        }

        var type = _columns[i].Type;
        if (type == ImportColumnType.Text)
        {
            value.IsNull = false;
            value.Text = Keep(text);
            return null;
        }
        if (ImportValues.TryParse(text, type, ref value))
        {
            return null;
        }

        var shown = text.Length > 40 ? string.Concat(text[..40], "...") : text.ToString();
        return new RowReject(ImportValues.InvalidReason(type), _columns[i].Name,
            $"'{shown}' is not a valid {ImportValues.Describe(type)} for column {_columns[i].Name}.");
    }
}

/// <summary>The rejects CSV: <c>line,column,reason,row</c>, the row as it was in the file.</summary>
internal sealed class RejectsFile : IDisposable
{
    private readonly StreamWriter _writer;

    private RejectsFile(StreamWriter writer) => _writer = writer;

    public static RejectsFile Create(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false));
        writer.WriteLine("line,column,reason,row");
        return new RejectsFile(writer);
    }

    public void Write(long line, string? column, string reason, string raw)
    {
        _writer.Write(line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _writer.Write(',');
        _writer.Write(Escape(column ?? ""));
        _writer.Write(',');
        _writer.Write(Escape(reason));
        _writer.Write(',');
        _writer.WriteLine(Escape(raw.TrimEnd('\r', '\n')));
    }

    private static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;

    public void Dispose() => _writer.Dispose();
}
