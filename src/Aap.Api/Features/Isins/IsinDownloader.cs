using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Aap.Api.Features.Isins;

/// <summary>What a download gave: nothing new (a 304), or a file in the temporary file with its validators and hash.</summary>
internal sealed record DownloadedFile(bool NotModified, long Bytes = 0, string? Sha256 = null, string? ETag = null, string? LastModified = null);

/// <summary>
/// Downloads the ISIN file into a temporary file: a conditional GET (the stored <c>ETag</c> as <c>If-None-Match</c>,
/// the stored <c>Last-Modified</c> as <c>If-Modified-Since</c>), streamed to disk in 80 KB pieces while it is hashed,
/// within <c>Jobs:Isin:MaxFileBytes</c> and <c>Jobs:Isin:DownloadTimeoutSeconds</c>. Retries and the per-attempt
/// timeout are the HTTP client's resilience handler (<see cref="AddResilience"/>).
/// </summary>
internal sealed class IsinDownloader(HttpClient http, IOptions<IsinOptions> options)
{
    public const string ClientName = "isin-download";

    public async Task<DownloadedFile> DownloadAsync(IsinDownload? previous, Stream target, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.DownloadTimeoutSeconds));
        try
        {
            return await DownloadAsync(settings, previous, target, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The download of {settings.SourceUrl} took longer than Jobs:Isin:DownloadTimeoutSeconds ({settings.DownloadTimeoutSeconds} s).");
        }
    }

    private async Task<DownloadedFile> DownloadAsync(IsinOptions settings, IsinDownload? previous, Stream target, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.SourceUrl);
        if (previous?.ETag is { Length: > 0 } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfNoneMatch.Add(tag);
        }

        if (previous?.LastModified is { Length: > 0 } modified && DateTimeOffset.TryParse(modified, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var since))
        {
            request.Headers.IfModifiedSince = since;
        }

        HttpResponseMessage answer;
        try
        {
            answer = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            // Said plainly (the run's error is the innermost exception, which here would be a cancelled socket read).
            throw new TimeoutException(
                $"{settings.SourceUrl} did not answer within Jobs:Isin:TimeoutSeconds ({settings.TimeoutSeconds} s), {settings.RetryAttempts + 1} attempts.");
        }

        using var response = answer;
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return new DownloadedFile(NotModified: true);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{settings.SourceUrl} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }

        if (response.Content.Headers.ContentLength is { } announced && announced > settings.MaxFileBytes)
        {
            throw new InvalidDataException($"The file is {announced} bytes; Jobs:Isin:MaxFileBytes allows {settings.MaxFileBytes}.");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81_920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > settings.MaxFileBytes)
            {
                throw new InvalidDataException($"The file is larger than Jobs:Isin:MaxFileBytes ({settings.MaxFileBytes} bytes).");
            }

            hash.AppendData(buffer, 0, read);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        await target.FlushAsync(cancellationToken);
        if (total == 0)
        {
            throw new InvalidDataException($"{settings.SourceUrl} answered an empty file.");
        }

        return new DownloadedFile(false, total, Convert.ToHexStringLower(hash.GetHashAndReset()),
            response.Headers.ETag?.ToString(), response.Content.Headers.LastModified?.ToString("R"));
    }

    /// <summary>
    /// The HTTP client: no client-wide timeout (the download has its own), retries with exponential backoff and jitter
    /// on 5xx, 408, 429, network errors and timeouts (honouring <c>Retry-After</c>), and a timeout per attempt.
    /// </summary>
    public static void AddResilience(IServiceCollection services)
    {
        services.AddHttpClient<IsinDownloader>(ClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("aap-isin-download/1.0");
            })
            .AddResilienceHandler(ClientName, (pipeline, context) =>
            {
                var settings = context.ServiceProvider.GetRequiredService<IOptions<IsinOptions>>().Value;
                // Network waits are in real time, whatever clock the application's TimeProvider is (a test's fake one).
                pipeline.TimeProvider = TimeProvider.System;
                if (settings.RetryAttempts > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = settings.RetryAttempts,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromMilliseconds(settings.RetryDelayMilliseconds),
                    });
                }

                pipeline.AddTimeout(TimeSpan.FromSeconds(settings.TimeoutSeconds));
            });
    }
}
