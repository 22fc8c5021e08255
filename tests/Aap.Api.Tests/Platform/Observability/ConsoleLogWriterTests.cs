using System.Globalization;
using System.Text;
using System.Text.Json;
using Aap.Api.Platform.Observability;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Parsing;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The JSON console (<see cref="ConsoleLogWriter"/> behind a <see cref="LogFileQueue"/>): events are buffered and
/// written out once per pass of the queue rather than once each, every line whole, and nothing is left in the buffer
/// when the logger is disposed, which leaves standard output open.
/// </summary>
public sealed class ConsoleLogWriterTests
{
    private static readonly MessageTemplateParser Parser = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Events_are_written_out_together_when_flushed_not_one_write_each()
    {
        using var output = new RecordingStream();
        using var writer = new ConsoleLogWriter(new RenderedCompactJsonFormatter(), output);
        for (var i = 0; i < 100; i++)
        {
            writer.Emit(Event("Console probe {Number}", i));
        }

        output.Writes.ShouldBe(0, "nothing is written before the flush");
        writer.Flush();

        output.Writes.ShouldBeInRange(1, 2);
        Numbers(output.Lines()).ShouldBe(Enumerable.Range(0, 100));
    }

    [Fact]
    public async Task The_queue_writes_the_console_out_after_each_pass()
    {
        using var output = new RecordingStream();
        using var queue = new LogFileQueue(new ConsoleLogWriter(new RenderedCompactJsonFormatter(), output), 1_000, "Console log writer");
        for (var i = 0; i < 50; i++)
        {
            queue.Emit(Event("Console probe {Number}", i));
        }

        // No flush from here: the queue's writer takes the events within its interval and writes them out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (output.Lines().Count < 50 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Numbers(output.Lines()).ShouldBe(Enumerable.Range(0, 50));
        output.Writes.ShouldBeLessThan(50);
    }

    [Fact]
    public void A_line_is_written_whole_or_not_at_all()
    {
        using var output = new RecordingStream();
        using var writer = new ConsoleLogWriter(new RenderedCompactJsonFormatter(), output);
        writer.Emit(Event("Console probe {Number}", 1));
        Should.Throw<InvalidOperationException>(() => writer.Emit(Event("Console probe {Number} {Broken}", 2, new Unprintable())));
        writer.Emit(Event("Console probe {Number}", 3));
        writer.Flush();

        Numbers(output.Lines()).ShouldBe([1, 3]);
    }

    [Fact]
    public void Disposing_the_queue_writes_out_what_is_buffered_and_leaves_the_output_open()
    {
        using var output = new RecordingStream();
        var queue = new LogFileQueue(new ConsoleLogWriter(new RenderedCompactJsonFormatter(), output), 1_000, "Console log writer");
        for (var i = 0; i < 5; i++)
        {
            queue.Emit(Event("Console probe {Number}", i));
        }

        queue.Dispose();

        Numbers(output.Lines()).ShouldBe(Enumerable.Range(0, 5));
        output.CanWrite.ShouldBeTrue("standard output stays open for whatever else writes to it");
    }

    private static List<int> Numbers(IReadOnlyList<string> lines) =>
        [.. lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Number").GetInt32())];

    private static LogEvent Event(string template, int number, object? broken = null) => new(
        DateTimeOffset.UtcNow, LogEventLevel.Information, null, Parser.Parse(template),
        broken is null
            ? [new LogEventProperty("Number", new ScalarValue(number))]
            : [new LogEventProperty("Number", new ScalarValue(number)), new LogEventProperty("Broken", new ScalarValue(broken))]);

    /// <summary>A stream that counts the writes it is given and can be read while another thread writes to it.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _bytes = new();
        private int _writes;

        public int Writes => Volatile.Read(ref _writes);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public List<string> Lines()
        {
            lock (_bytes)
            {
                return Encoding.UTF8.GetString(_bytes.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_bytes)
            {
                _bytes.Write(buffer);
                _writes++;
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _bytes.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
