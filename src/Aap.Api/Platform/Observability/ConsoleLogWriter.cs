using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// The JSON console, behind a <see cref="LogFileQueue"/> of its own: the queue's thread formats each event into a
/// line and adds it to a buffer over standard output, which is written out once per pass of the queue (every 50 ms at
/// most) and when the logger is disposed. Serilog's console sink wrote each event on the logging thread, a write to
/// standard output under a lock per event, which cost a request about a sixth of its CPU at thousands of requests a
/// second. A line reaches the output whole or not at all; the stream itself is left open.
/// </summary>
internal sealed class ConsoleLogWriter : ILogEventSink, IFlushedAfterEachPass, IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly ITextFormatter _formatter;
    private readonly StreamWriter _output;

    // Culture as Serilog's console sink used: its line buffer was a StringWriter of the current culture.
    private readonly StringWriter _line = new(CultureInfo.CurrentCulture);

    public ConsoleLogWriter(ITextFormatter formatter, Stream output)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        ArgumentNullException.ThrowIfNull(output);
        _formatter = formatter;
        _output = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), BufferSize, leaveOpen: true);
    }

    public void Emit(LogEvent logEvent)
    {
        var line = _line.GetStringBuilder().Clear();
        _formatter.Format(logEvent, _line);
        _output.Write(line);
    }

    public void Flush() => _output.Flush();

    public void Dispose()
    {
        _output.Dispose();
        _line.Dispose();
    }
}
