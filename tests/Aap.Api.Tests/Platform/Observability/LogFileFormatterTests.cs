using System.Diagnostics;
using System.Globalization;
using Aap.Api.Platform.Observability;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Parsing;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The log file's formatter (<see cref="LogFileFormatter"/>) writes what Serilog's <see cref="CompactJsonFormatter"/>
/// writes, character for character, so that whatever reads AAP's log files (CLEF readers, Seq, a shipper's parser)
/// reads the same lines: every kind of value, name, template, rendering, level, exception and trace, in two cultures.
/// </summary>
public sealed class LogFileFormatterTests
{
    private static readonly MessageTemplateParser Parser = new();

    private static readonly DateTimeOffset At = new DateTimeOffset(2026, 11, 30, 23, 59, 58, 123, TimeSpan.Zero).AddTicks(4567);

    public static TheoryData<string> Cultures => new() { "", "de-DE", "ar-SA" };

    [Theory]
    [MemberData(nameof(Cultures))]
    public void Every_event_is_written_as_the_compact_JSON_formatter_writes_it(string culture)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
        try
        {
            var expected = new CompactJsonFormatter();
            var actual = new LogFileFormatter();
            var events = Events().ToList();
            events.Count.ShouldBeGreaterThan(7_500);
            // Twice over: the second pass reads the templates the first one remembered.
            foreach (var (name, logEvent) in events.Concat(events))
            {
                using var theirs = new StringWriter(CultureInfo.CurrentCulture);
                using var ours = new StringWriter(CultureInfo.CurrentCulture);
                expected.Format(logEvent, theirs);
                actual.Format(logEvent, ours);
                ours.ToString().ShouldBe(theirs.ToString(), name);
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void A_line_is_one_JSON_object_with_the_events_fields()
    {
        using var line = new StringWriter(CultureInfo.InvariantCulture);
        new LogFileFormatter().Format(RequestEvent(LogEventLevel.Warning, 401, 3.14159), line);

        var text = line.ToString();
        text.ShouldEndWith(Environment.NewLine);
        text.Count(c => c == '\n').ShouldBe(1);
        using var json = System.Text.Json.JsonDocument.Parse(text);
        var root = json.RootElement;
        root.GetProperty("@t").GetString().ShouldBe("2026-11-30T23:59:58.1234567Z");
        root.GetProperty("@mt").GetString().ShouldBe("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms");
        root.GetProperty("@r")[0].GetString().ShouldBe("3.1");
        root.GetProperty("@l").GetString().ShouldBe("Warning");
        root.GetProperty("@tr").GetString().ShouldBe("0af7651916cd43dd8448eb211c80319c");
        root.GetProperty("@sp").GetString().ShouldBe("b7ad6b7169203331");
        root.GetProperty("StatusCode").GetInt32().ShouldBe(401);
        root.GetProperty("RequestHeaders").GetProperty("Accept").GetString().ShouldBe("application/json");
        root.GetProperty("RequestHeaders").GetProperty("X-Forwarded-For")[1].GetString().ShouldBe("10.0.0.2");
    }

    [Fact]
    public void An_event_that_cannot_be_formatted_leaves_no_half_line_in_the_file()
    {
        var folder = Directory.CreateTempSubdirectory("aap-log-format-");
        try
        {
            var path = Path.Combine(folder.FullName, "aap.json");
            var broken = Event("Value {Value} then {After}", [Property("Value", new Unprintable()), Property("After", 1)]);
            // The logger reports the event its file refused to Serilog's diagnostics and goes on.
            using (var logger = new LoggerConfiguration().WriteTo.File(new LogFileFormatter(), path).CreateLogger())
            {
                logger.Write(Event("Before {N}", [Property("N", 1)]));
                logger.Write(broken);
                logger.Write(Event("After {N}", [Property("N", 2)]));
            }

            // Serilog's own formatter stops in the middle of the event's line; the next event would follow on it.
            using (var theirs = new StringWriter(CultureInfo.InvariantCulture))
            {
                Should.Throw<InvalidOperationException>(() => new CompactJsonFormatter().Format(broken, theirs));
                theirs.ToString().ShouldStartWith("{\"@t\":");
            }

            var lines = File.ReadAllLines(path);
            lines.Length.ShouldBe(2);
            lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("@mt").GetString()).ShouldBe(["Before {N}", "After {N}"]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static IEnumerable<(string Name, LogEvent Event)> Events()
    {
        // Lines of every length across the sizes the formatter's buffer doubles through, so that the buffer fills
        // up in the middle of a string, an escape, a number and a time, whichever size it has reached.
        for (var pad = 900; pad <= 8_400; pad++)
        {
            yield return ($"a line around the buffer's sizes ({pad})", Event("Padded {Pad} {Number} {At}", [
                Property("Pad", new string('p', pad) + "\t"), Property("Number", -1.0 / 3), Property("At", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
            ]));
        }

        foreach (var level in Enum.GetValues<LogEventLevel>())
        {
            yield return ($"request event at {level}", RequestEvent(level, 200, 12.345));
        }

        yield return ("request event, slow", RequestEvent(LogEventLevel.Information, 503, 123456.75));
        yield return ("request event, under a tenth of a millisecond", RequestEvent(LogEventLevel.Information, 204, 0.04));
        yield return ("an unknown level", Event("Level {N}", [Property("N", 1)], level: (LogEventLevel)42));

        var scalars = new (string Name, object? Value)[]
        {
            ("null", null), ("empty string", ""), ("plain string", "plain"),
            ("escapes", "quote\" backslash\\ newline\n return\r tab\t feed\f backspace\b nul\0 unit\u001f delete\u007f"),
            ("non-ASCII", "é ß 漢字 \U0001D11E \u2028 \u2029 <tag> & 'single'"), ("lone surrogate", "a\uD800b"),
            ("true", true), ("false", false),
            ("int min", int.MinValue), ("int max", int.MaxValue), ("long min", long.MinValue), ("long max", long.MaxValue),
            ("short", (short)-12), ("byte", (byte)255), ("sbyte", (sbyte)-128), ("uint", uint.MaxValue),
            ("ulong", ulong.MaxValue), ("ushort", (ushort)65535),
            ("double tenth", 0.1), ("double third", 1.0 / 3), ("negative zero", -0.0), ("double large", 1e300),
            ("double small", double.Epsilon), ("double whole", 42.0), ("double negative", -1234.5678),
            ("NaN", double.NaN), ("positive infinity", double.PositiveInfinity), ("negative infinity", double.NegativeInfinity),
            ("float", 0.1f), ("float NaN", float.NaN), ("float infinity", float.NegativeInfinity),
            ("decimal", 1.10m), ("decimal large", decimal.MaxValue), ("char", 'x'), ("char quote", '"'),
            ("UTC time", new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc)),
            ("local time", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Local)),
            ("unspecified time", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Unspecified)),
            ("offset time", new DateTimeOffset(2026, 7, 8, 9, 10, 11, TimeSpan.FromMinutes(330))),
            ("time span", TimeSpan.FromMilliseconds(-90061001)), ("GUID", Guid.Parse("0198c2b4-7e0a-7c3e-9f1d-2b3c4d5e6f70")),
            ("enum", LogEventLevel.Fatal), ("URI", new Uri("https://example.com/a?b=c")),
            ("date only", new DateOnly(2026, 11, 30)), ("time only", new TimeOnly(23, 59, 58)),
            ("object", new Opaque()),
            ("long string, beyond any kept buffer", string.Concat(Enumerable.Repeat("forty thousand characters \"quoted\"\n", 1_200))),
        };
        foreach (var (name, value) in scalars)
        {
            yield return ($"scalar: {name}", Event("Value {Value}", [Property("Value", value)]));
        }

        yield return ("property names", Event("Names", [
            Property("@at", 1), Property("@", 2), Property("na\"me\\", 4), Property("naïve", 5), Property("@@twice", 6),
        ]));

        var headers = new DictionaryValue([
            new(new ScalarValue("Accept"), new ScalarValue("*/*")),
            new(new ScalarValue(7), new ScalarValue("a number's key")),
            new(new ScalarValue(null), new ScalarValue("a null key")),
            new(new ScalarValue(2.5), new SequenceValue([])),
        ]);
        yield return ("dictionary", Event("Headers {Headers}", [new LogEventProperty("Headers", headers)]));
        yield return ("empty dictionary", Event("Headers {Headers}", [new LogEventProperty("Headers", new DictionaryValue([]))]));
        yield return ("sequence", Event("Items {Items}", [new LogEventProperty("Items", new SequenceValue([
            new ScalarValue(1), new ScalarValue("two"), new ScalarValue(null), new SequenceValue([new ScalarValue(3.5)]),
        ]))]));
        yield return ("structure with a type tag", Event("Order {@Order}", [new LogEventProperty("Order", new StructureValue([
            new LogEventProperty("Id", new ScalarValue(12)),
            new LogEventProperty("Lines", new SequenceValue([new StructureValue([new LogEventProperty("Sku", new ScalarValue("A\"1"))])])),
        ], "Order"))]));
        yield return ("structure without a type tag", Event("Point {@Point}", [new LogEventProperty("Point", new StructureValue([
            new LogEventProperty("X", new ScalarValue(1.5)), new LogEventProperty("Y", new ScalarValue(-2)),
        ]))]));
        yield return ("empty structure with a type tag", Event("Empty {@E}", [new LogEventProperty("E", new StructureValue([], "Empty"))]));
        yield return ("empty structure", Event("Empty {@E}", [new LogEventProperty("E", new StructureValue([]))]));

        yield return ("renderings of every kind", Event(
            "{Elapsed:0.0} {Count:D4} {Ratio:P1} {Amount:C} {Big:N0} {When:yyyy-MM-dd HH:mm} {Name:l} {Quoted:l} {Plain} {Missing:0.0} {Aligned,8:0.00} {Left,-6:D} {Text:0.0} {Nothing:0.0} {Money:0.00} {Tiny:E3} {Flag:G}",
            [
                Property("Elapsed", 12.3456), Property("Count", 7), Property("Ratio", 0.4567f), Property("Amount", 1234.5m),
                Property("Big", 9876543210L), Property("When", new DateTime(2026, 11, 30, 8, 5, 0, DateTimeKind.Utc)),
                Property("Name", "Ada"), Property("Quoted", "say \"hi\""), Property("Plain", 1), Property("Aligned", 3.14159),
                Property("Left", 42), Property("Text", "not a number"), Property("Nothing", null), Property("Money", -0.005m),
                Property("Tiny", 0.000123), Property("Flag", true),
            ]));
        yield return ("renderings wider than their buffer", Event("{Wide:D200} {Wider:F300}", [Property("Wide", 42), Property("Wider", 1.5)]));
        yield return ("a rendering that escapes", Event("At {When:yyyy\\\"MM\\\\dd}", [Property("When", new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc))]));
        yield return ("a template with escapes", Event("Line one\nline \"two\"\t{{not a property}} {Value} \\ end", [Property("Value", "v")]));
        yield return ("no properties", Event("Nothing to add", []));
        yield return ("positional", Event("First {0}, second {1:0.0}", [Property("0", "a"), Property("1", 2.25)]));

        var failure = Thrown(() => throw new InvalidOperationException("Broken \"quote\"\n\tsecond line"));
        yield return ("exception", Event("It failed for {User}", [Property("User", 5)], LogEventLevel.Error, failure));
        yield return ("exception with an inner one", Event("Nested", [], LogEventLevel.Fatal,
            Thrown(() => throw new AggregateException("outer", failure, new TimeoutException()))));
        yield return ("trace without a span", new LogEvent(At, LogEventLevel.Information, null, Parser.Parse("Traced"), [],
            ActivityTraceId.CreateFromString("4bf92f3577b34da6a3ce929d0e0e4736"), default));
        yield return ("span without a trace", new LogEvent(At, LogEventLevel.Information, null, Parser.Parse("Spanned"), [],
            default, ActivitySpanId.CreateFromString("00f067aa0ba902b7")));
        yield return ("other offsets", new LogEvent(new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.FromHours(-7)), LogEventLevel.Debug, null,
            Parser.Parse("Offset"), [], default, default));
    }

    private static LogEvent RequestEvent(LogEventLevel level, int status, double elapsed)
    {
        var headers = new StructureValue([
            new LogEventProperty("Accept", new ScalarValue("application/json")),
            new LogEventProperty("User-Agent", new ScalarValue("curl/8.5.0")),
            new LogEventProperty("X-Forwarded-For", new SequenceValue([new ScalarValue("203.0.113.7"), new ScalarValue("10.0.0.2")])),
        ]);
        return new LogEvent(At, level, null,
            Parser.Parse("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms"),
            [
                Property("UserId", "1234"), Property("QueryString", "?page=2&token=[redacted]"),
                new LogEventProperty("RequestHeaders", headers),
                new LogEventProperty("ResponseHeaders", new StructureValue([new LogEventProperty("Content-Type", new ScalarValue("application/json; charset=utf-8"))])),
                Property("RequestMethod", "GET"), Property("RequestPath", "/api/v1/me"), Property("StatusCode", status),
                Property("Elapsed", elapsed), Property("SourceContext", "Aap.Api.Platform.Observability.RequestLogging"),
                Property("RequestId", "0198c2b47e0a7c3e9f1d2b3c4d5e6f70"), Property("Application", "aap"),
            ],
            ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c"), ActivitySpanId.CreateFromString("b7ad6b7169203331"));
    }

    private static LogEvent Event(string template, LogEventProperty[] properties, LogEventLevel level = LogEventLevel.Information, Exception? exception = null) =>
        new(At, level, exception, Parser.Parse(template), properties);

    private static LogEventProperty Property(string name, object? value) => new(name, new ScalarValue(value));

    private static Exception Thrown(Action fail)
    {
        try
        {
            fail();
        }
        catch (Exception caught)
        {
            return caught;
        }

        throw new InvalidOperationException("The action did not throw.");
    }

    private sealed class Opaque
    {
        public override string ToString() => "opaque \"value\"";
    }
}
