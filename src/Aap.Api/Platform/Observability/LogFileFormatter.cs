using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Json;
using Serilog.Parsing;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// The log file's lines: Serilog's compact JSON (CLEF), character for character what <see cref="CompactJsonFormatter"/>
/// writes (<c>LogFileFormatterTests</c> compares the two over every kind of value), without what that costs per event:
/// the timestamp and each number made into a string of its own, the message template scanned and escaped again, a
/// query over its tokens and a <see cref="StringWriter"/> for each formatted rendering, and some fifty small writes
/// to the file's writer. A template's JSON and its formatted tokens are worked out once (Serilog's parser caches
/// templates, so the request event's is one object); the line is put together in a buffer of the thread's, numbers
/// and times formatted in place and strings escaped a clean run at a time, and handed to the writer in one piece.
/// Values of kinds it does not write itself (enums, GUIDs, time spans, decimals...) and renderings other than of
/// numbers go through Serilog's own code (<see cref="JsonValueFormatter"/>, with the same type tag). Since nothing reaches
/// the writer before the line is whole, an event that cannot be written (a value whose <c>ToString</c> throws) is left
/// out whole, where Serilog's formatter left half a line in the file for the next event to follow on.
/// </summary>
internal sealed class LogFileFormatter : ITextFormatter
{
    private const string TypeTagName = "$type";

    // Buffers a line outgrows are not kept beyond this: a rare event with a long exception does not hold its size.
    private const int KeptBufferLength = 16 * 1024;

    // What JSON requires escaped in a string: quotes, backslashes and the control characters.
    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    private static readonly string[] LevelNames = Enum.GetValues<LogEventLevel>().Select(l => l.ToString()).ToArray();

    [ThreadStatic]
    private static char[]? threadBuffer;

    private readonly ConditionalWeakTable<MessageTemplate, Template> _templates = new();
    private readonly JsonValueFormatter _others = new(TypeTagName);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        var line = new Line(threadBuffer ??= new char[1024]);
        line.Append("{\"@t\":\"");
        // In UTC ("Z"), as CompactJsonFormatter writes it; "O" is the same in every culture.
        line.AppendFormatted(logEvent.Timestamp.UtcDateTime, "O");
        var template = _templates.GetValue(logEvent.MessageTemplate, static t => new Template(t));
        line.Append(template.Json);
        if (template.Formatted.Length > 0)
        {
            line.Append(",\"@r\":[");
            for (var i = 0; i < template.Formatted.Length; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                AppendRendering(ref line, template.Formatted[i], logEvent.Properties);
            }

            line.Append(']');
        }

        if (logEvent.Level != LogEventLevel.Information)
        {
            line.Append(",\"@l\":\"");
            line.Append((uint)logEvent.Level < (uint)LevelNames.Length ? LevelNames[(int)logEvent.Level] : logEvent.Level.ToString());
            line.Append('"');
        }

        if (logEvent.Exception is { } exception)
        {
            line.Append(",\"@x\":");
            line.AppendQuoted(exception.ToString());
        }

        // The ids keep their hexadecimal text: ToHexString returns it as it is.
        if (logEvent.TraceId is { } traceId)
        {
            line.Append(",\"@tr\":\"");
            line.Append(traceId.ToHexString());
            line.Append('"');
        }

        if (logEvent.SpanId is { } spanId)
        {
            line.Append(",\"@sp\":\"");
            line.Append(spanId.ToHexString());
            line.Append('"');
        }

        // An event's properties are a Dictionary: enumerated as one, without boxing its enumerator.
        if (logEvent.Properties is Dictionary<string, LogEventPropertyValue> properties)
        {
            foreach (var (name, value) in properties)
            {
                AppendProperty(ref line, name, value);
            }
        }
        else
        {
            foreach (var (name, value) in logEvent.Properties)
            {
                AppendProperty(ref line, name, value);
            }
        }

        line.Append('}');
        line.Append(output.NewLine);
        output.Write(line.Written);
        if (line.Buffer.Length <= KeptBufferLength)
        {
            threadBuffer = line.Buffer;
        }
    }

    private void AppendProperty(ref Line line, string name, LogEventPropertyValue value)
    {
        line.Append(',');
        if (name.StartsWith('@'))
        {
            // CLEF's reserved names start with @: a property's own leading @ is doubled.
            line.Append("\"@");
            line.AppendEscaped(name);
            line.Append('"');
        }
        else
        {
            line.AppendQuoted(name);
        }

        line.Append(':');
        AppendValue(ref line, value);
    }

    private void AppendValue(ref Line line, LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue scalar:
                AppendScalar(ref line, scalar);
                break;
            case DictionaryValue dictionary:
                line.Append('{');
                var first = true;
                if (dictionary.Elements is Dictionary<ScalarValue, LogEventPropertyValue> elements)
                {
                    foreach (var (key, element) in elements)
                    {
                        AppendElement(ref line, key, element, ref first);
                    }
                }
                else
                {
                    foreach (var (key, element) in dictionary.Elements)
                    {
                        AppendElement(ref line, key, element, ref first);
                    }
                }

                line.Append('}');
                break;
            case SequenceValue sequence:
                line.Append('[');
                for (var i = 0; i < sequence.Elements.Count; i++)
                {
                    if (i > 0)
                    {
                        line.Append(',');
                    }

                    AppendValue(ref line, sequence.Elements[i]);
                }

                line.Append(']');
                break;
            case StructureValue structure:
                line.Append('{');
                for (var i = 0; i < structure.Properties.Count; i++)
                {
                    if (i > 0)
                    {
                        line.Append(',');
                    }

                    line.AppendQuoted(structure.Properties[i].Name);
                    line.Append(':');
                    AppendValue(ref line, structure.Properties[i].Value);
                }

                if (structure.TypeTag is { } typeTag)
                {
                    if (structure.Properties.Count > 0)
                    {
                        line.Append(',');
                    }

                    line.Append("\"" + TypeTagName + "\":");
                    line.AppendQuoted(typeTag);
                }

                line.Append('}');
                break;
            default:
                AppendOther(ref line, value);
                break;
        }
    }

    private void AppendElement(ref Line line, ScalarValue key, LogEventPropertyValue element, ref bool first)
    {
        if (!first)
        {
            line.Append(',');
        }

        first = false;
        line.AppendQuoted(key.Value as string ?? (key.Value ?? "null").ToString() ?? string.Empty);
        line.Append(':');
        AppendValue(ref line, element);
    }

    private void AppendScalar(ref Line line, ScalarValue scalar)
    {
        switch (scalar.Value)
        {
            case null:
                line.Append("null");
                break;
            case string text:
                line.AppendQuoted(text);
                break;
            case bool flag:
                line.Append(flag ? "true" : "false");
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                line.AppendFormatted((ISpanFormattable)scalar.Value, default);
                break;
            case double number when double.IsFinite(number):
                line.AppendFormatted(number, "R");
                break;
            case float number when float.IsFinite(number):
                line.AppendFormatted(number, "R");
                break;
            case DateTime or DateTimeOffset:
                line.Append('"');
                line.AppendFormatted((ISpanFormattable)scalar.Value, "O");
                line.Append('"');
                break;
            default:
                AppendOther(ref line, scalar);
                break;
        }
    }

    private void AppendOther(ref Line line, LogEventPropertyValue value)
    {
        using var json = new StringWriter(CultureInfo.InvariantCulture);
        _others.Format(value, json);
        line.Append(json.ToString());
    }

    // A rendering as Serilog's PropertyToken.Render makes it (a number formatted with the token's format in the
    // invariant culture), quoted; all but plain numbers are left to Serilog itself.
    private static void AppendRendering(ref Line line, PropertyToken token, IReadOnlyDictionary<string, LogEventPropertyValue> properties)
    {
        if (token.Alignment is null
            && properties.TryGetValue(token.PropertyName, out var value)
            && value is ScalarValue { Value: int or long or double or float or decimal } scalar)
        {
            Span<char> rendered = stackalloc char[128];
            if (((ISpanFormattable)scalar.Value).TryFormat(rendered, out var written, token.Format, CultureInfo.InvariantCulture))
            {
                line.AppendQuoted(rendered[..written]);
                return;
            }
        }

        using var text = new StringWriter(CultureInfo.CurrentCulture);
        token.Render(properties, text, formatProvider: null);
        line.AppendQuoted(text.ToString());
    }

    /// <summary>A line being put together in a buffer that grows by doubling.</summary>
    private ref struct Line(char[] buffer)
    {
        private int _length;

        public char[] Buffer { get; private set; } = buffer;

        public readonly ReadOnlySpan<char> Written => Buffer.AsSpan(0, _length);

        public void Append(char c)
        {
            if (_length == Buffer.Length)
            {
                Grow(1);
            }

            Buffer[_length++] = c;
        }

        public void Append(scoped ReadOnlySpan<char> text)
        {
            if (text.Length > Buffer.Length - _length)
            {
                Grow(text.Length);
            }

            text.CopyTo(Buffer.AsSpan(_length));
            _length += text.Length;
        }

        public void AppendFormatted<T>(T value, scoped ReadOnlySpan<char> format)
            where T : ISpanFormattable
        {
            int written;
            while (!value.TryFormat(Buffer.AsSpan(_length), out written, format, CultureInfo.InvariantCulture))
            {
                Grow(Math.Max(128, Buffer.Length - _length + 1));
            }

            _length += written;
        }

        public void AppendQuoted(scoped ReadOnlySpan<char> text)
        {
            Append('"');
            AppendEscaped(text);
            Append('"');
        }

        public void AppendEscaped(scoped ReadOnlySpan<char> text)
        {
            while (true)
            {
                var next = text.IndexOfAny(NeedsEscape);
                if (next < 0)
                {
                    Append(text);
                    return;
                }

                Append(text[..next]);
                switch (text[next])
                {
                    case '"':
                        Append("\\\"");
                        break;
                    case '\\':
                        Append("\\\\");
                        break;
                    case '\n':
                        Append("\\n");
                        break;
                    case '\r':
                        Append("\\r");
                        break;
                    case '\f':
                        Append("\\f");
                        break;
                    case '\t':
                        Append("\\t");
                        break;
                    default:
                        Append("\\u");
                        AppendFormatted((int)text[next], "X4");
                        break;
                }

                text = text[(next + 1)..];
            }
        }

        private void Grow(int needed)
        {
            var larger = new char[Math.Max(Buffer.Length * 2, _length + needed)];
            Buffer.AsSpan(0, _length).CopyTo(larger);
            Buffer = larger;
        }
    }

    /// <summary>What is written once per message template: its JSON after the timestamp, and its formatted tokens.</summary>
    private sealed class Template
    {
        public Template(MessageTemplate template)
        {
            var line = new Line(new char[template.Text.Length + 16]);
            line.Append("\",\"@mt\":");
            line.AppendQuoted(template.Text);
            Json = line.Written.ToString();
            Formatted = template.Tokens.OfType<PropertyToken>().Where(t => t.Format is not null).ToArray();
        }

        public string Json { get; }

        public PropertyToken[] Formatted { get; }
    }
}
