using System.Diagnostics;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// An S3-compatible server of one test's own (<c>moto_server</c>, from the Python package moto, on PATH when
/// scripts/test.sh runs), which the test may stop and start again on the same port. moto keeps its buckets in
/// memory: a restarted server is empty, so <see cref="StartAgainAsync"/> makes the bucket again, as a store whose
/// data survived would have it. Without moto_server the test fails with a message that says so.
/// </summary>
internal sealed class PrivateS3 : IAsyncDisposable
{
    private Process? _process;

    private PrivateS3(int port) => Port = port;

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static async Task<PrivateS3> StartAsync(CancellationToken cancellationToken)
    {
        var server = new PrivateS3(PrivatePostgres.FreePort());
        await server.StartAgainAsync(bucket: null, cancellationToken);
        return server;
    }

    /// <summary>Starts the server again and, when <paramref name="bucket"/> is given, makes that bucket.</summary>
    public async Task StartAgainAsync(string? bucket, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("moto_server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-H", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Outage tests start an S3-compatible server of their own: moto_server (Python package moto) must be on PATH, as scripts/test.sh has it.", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"moto_server exited with {_process.ExitCode} on port {Port}.");
            }

            try
            {
                if (bucket is null)
                {
                    using var _ = await http.GetAsync(Endpoint, cancellationToken);
                }
                else
                {
                    using var made = await http.PutAsync($"{Endpoint}/{bucket}", null, cancellationToken);
                    made.EnsureSuccessStatusCode();
                }

                return;
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
            }
        }
    }

    /// <summary>Kills the server: connections are refused until it is started again.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
