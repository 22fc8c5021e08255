using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Aap.Api.Features.Isins;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aap.Api.Tests.Features.Isins;

/// <summary>
/// A small Kestrel server on a loopback port that serves ISIN files the way a test tells it to: a file with an ETag
/// (and a 304 when the client sends it back), a status, a body cut short, a slow answer. Each request takes the next
/// queued answer, or the standing one when none is queued; every request's conditional headers are recorded.
/// </summary>
internal sealed class IsinSource : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RequestDelegate> _queued = new();
    private volatile RequestDelegate _standing = context =>
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    };

    private IsinSource(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The If-None-Match header of each request, in order (empty when it had none).</summary>
    public ConcurrentQueue<string> IfNoneMatch { get; } = new();

    /// <summary>The If-Modified-Since header of each request, in order (empty when it had none).</summary>
    public ConcurrentQueue<string> IfModifiedSince { get; } = new();

    /// <summary>The status code each answer was sent with, in order.</summary>
    public ConcurrentQueue<int> Statuses { get; } = new();

    public int Requests => IfNoneMatch.Count;

    public Uri Url => new(new Uri(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()), "/isin-lei.zip");

    public static async Task<IsinSource> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var source = new IsinSource(app);
        app.Run(async context =>
        {
            source.IfModifiedSince.Enqueue(context.Request.Headers.IfModifiedSince.ToString());
            source.IfNoneMatch.Enqueue(context.Request.Headers.IfNoneMatch.ToString());
            try
            {
                await (source._queued.TryDequeue(out var once) ? once(context) : source._standing(context));
            }
            finally
            {
                source.Statuses.Enqueue(context.Response.StatusCode);
            }
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return source;
    }

    /// <summary>Answers every request from now on (after the queued ones) with <paramref name="answer"/>.</summary>
    public void Serve(RequestDelegate answer)
    {
        _queued.Clear();
        _standing = answer;
    }

    /// <summary>Answers the next request with <paramref name="answer"/>.</summary>
    public void ServeOnce(RequestDelegate answer) => _queued.Enqueue(answer);

    /// <summary>The file with its ETag, or a 304 when the request sends that ETag back.</summary>
    public static RequestDelegate File(byte[] content, string? etag = null, string contentType = "application/zip") => File(content, etag, null, contentType);

    /// <summary>
    /// The file with its ETag and its Last-Modified time (either may be left out), or a 304 when the request sends
    /// that ETag back, or (without an ETag) an If-Modified-Since no earlier than the file's time.
    /// </summary>
    public static RequestDelegate File(byte[] content, string? etag, DateTimeOffset? lastModified, string contentType = "application/zip") => async context =>
    {
        if (lastModified is { } modified)
        {
            context.Response.Headers.LastModified = modified.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            if (etag is null && context.Request.GetTypedHeaders().IfModifiedSince is { } since && since >= modified)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
        }

        if (etag is not null)
        {
            context.Response.Headers.ETag = etag;
            if (context.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
        }

        context.Response.ContentType = contentType;
        context.Response.ContentLength = content.Length;
        await context.Response.Body.WriteAsync(content, context.RequestAborted);
    };

    public static RequestDelegate Status(int status) => context =>
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    };

    /// <summary>Announces the whole file's length, sends its first half and drops the connection.</summary>
    public static RequestDelegate CutShort(byte[] content) => async context =>
    {
        context.Response.ContentType = "application/zip";
        context.Response.ContentLength = content.Length;
        await context.Response.Body.WriteAsync(content.AsMemory(0, content.Length / 2), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        context.Abort();
    };

    /// <summary>Answers only after <paramref name="delay"/> (or never, if the client gives up first).</summary>
    public static RequestDelegate Slow(TimeSpan delay, byte[] content) => async context =>
    {
        await Task.Delay(delay, context.RequestAborted);
        await File(content)(context);
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>A valid ISIN made from a country code and a number: nine digits and the check digit computed for them.</summary>
    public static string MakeIsin(string country, int number)
    {
        var body = $"{country}{number:D9}";
        return body + IsinCode.CheckDigit(body).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A made-up 20-character LEI for a number.</summary>
    public static string MakeLei(int number) => $"5493{number:D14}00";

    public static string Csv(string header, IEnumerable<string> rows) => header + "\n" + string.Join("\n", rows) + "\n";

    /// <summary>A ZIP holding one CSV, as GLEIF publishes it.</summary>
    public static byte[] Zip(string csv, string name = "isin-lei-20260115.csv")
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
            using var stream = entry.Open();
            stream.Write(Encoding.UTF8.GetBytes(csv));
        }

        return buffer.ToArray();
    }

    public static byte[] Gzip(string csv)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(csv));
        }

        return buffer.ToArray();
    }
}
