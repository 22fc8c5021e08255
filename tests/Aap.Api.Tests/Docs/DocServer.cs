using System.Diagnostics;
using System.Text;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Docs;

/// <summary>
/// The built service in a process of its own, as <c>dotnet run</c> starts it: Development, a fresh data folder
/// (so the demo seed runs), a port the system picks. Stopped and its folder deleted on dispose.
/// </summary>
public sealed class DocServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _folder;
    private readonly StringBuilder _output;

    private DocServer(Process process, DirectoryInfo folder, StringBuilder output)
    {
        _process = process;
        _folder = folder;
        _output = output;
    }

    public required string Address { get; init; }

    public string Folder => _folder.FullName;

    /// <summary>What the server printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<DocServer> StartAsync(IReadOnlyDictionary<string, string> environment, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("aap-docs-");
        var settings = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["AAP_DATA_DIR"] = Path.Combine(folder.FullName, "data"),
            ["Log__ConsoleFormat"] = "text",
        };
        foreach (var (key, value) in environment)
        {
            settings[key] = value;
        }

        var start = ServiceCommand.StartInfo(folder.FullName, settings, ["--urls", "http://127.0.0.1:0"]);
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        void Collect(string? line)
        {
            if (line is null)
            {
                listening.TrySetException(new InvalidOperationException($"aap exited before listening:\n{Text()}"));
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            const string prefix = "Now listening on: ";
            var at = line.IndexOf(prefix, StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(line[(at + prefix.Length)..].Trim());
            }
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Collect(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            var address = await listening.Task.WaitAsync(deadline.Token);
            return new DocServer(process, folder, output) { Address = address };
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            folder.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Ends the process at once (SIGKILL), as a crash or an out-of-memory kill would: nothing of it runs after.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// Stops the process as an orchestrator does (SIGTERM: the host stops, then the application is disposed) and
    /// waits for it to exit; returns its exit code.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"aap did not exit within {timeout} of SIGTERM:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>The data folder of the process (<c>AAP_DATA_DIR</c>, unless the test's environment named another).</summary>
    public string DataDirectory => Path.Combine(_folder.FullName, "data");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Delete(recursive: true);
    }
}
