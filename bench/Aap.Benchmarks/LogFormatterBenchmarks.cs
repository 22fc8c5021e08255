using System.Diagnostics;
using System.Text;
using Aap.Api.Platform.Observability;
using BenchmarkDotNet.Attributes;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Parsing;

namespace Aap.Benchmarks;

/// <summary>
/// What the log file's writer spends on each request's event: formatting it as a line of compact JSON with Serilog's
/// <see cref="CompactJsonFormatter"/> (the baseline) and with AAP's <see cref="LogFileFormatter"/>, which writes the
/// same characters. The event has the properties of a signed-in request's (headers, query string, user, request id,
/// trace) and the writer is what the file sink writes through: a buffered UTF-8 <see cref="StreamWriter"/>, here over
/// <see cref="Stream.Null"/>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class LogFormatterBenchmarks : IDisposable
{
    private readonly StreamWriter _output = new(Stream.Null, new UTF8Encoding(false), 4096);
    private LogEvent _event = null!;
    private CompactJsonFormatter _compact = null!;
    private LogFileFormatter _ours = null!;

    [GlobalSetup]
    public void Setup()
    {
        _compact = new CompactJsonFormatter();
        _ours = new LogFileFormatter();
        var headers = new StructureValue([
            new LogEventProperty("Accept", new ScalarValue("application/json")),
            new LogEventProperty("User-Agent", new ScalarValue("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")),
            new LogEventProperty("X-Forwarded-For", new ScalarValue("203.0.113.7")),
        ]);
        _event = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null,
            new MessageTemplateParser().Parse("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms"),
            [
                new LogEventProperty("UserId", new ScalarValue("48213")),
                new LogEventProperty("QueryString", new ScalarValue("?page=2&per_page=20")),
                new LogEventProperty("RequestHeaders", headers),
                new LogEventProperty("ResponseHeaders", new StructureValue([new LogEventProperty("Content-Type", new ScalarValue("application/json; charset=utf-8"))])),
                new LogEventProperty("RequestMethod", new ScalarValue("GET")),
                new LogEventProperty("RequestPath", new ScalarValue("/api/v1/me")),
                new LogEventProperty("StatusCode", new ScalarValue(200)),
                new LogEventProperty("Elapsed", new ScalarValue(0.8431)),
                new LogEventProperty("SourceContext", new ScalarValue("Aap.Api.Platform.Observability.RequestLogging")),
                new LogEventProperty("RequestId", new ScalarValue("0198c2b47e0a7c3e9f1d2b3c4d5e6f70")),
                new LogEventProperty("Application", new ScalarValue("aap")),
            ],
            ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public void CompactJsonFormatter() => _compact.Format(_event, _output);

    [Benchmark]
    public void LogFileFormatter() => _ours.Format(_event, _output);

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _output.Dispose();
        }
    }
}
