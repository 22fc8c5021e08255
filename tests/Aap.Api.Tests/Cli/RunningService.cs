using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Cli;

/// <summary>
/// The built service (<c>aap.dll</c>) running as a process of its own, started in <paramref name="folder"/> with the
/// given environment; its standard output is collected so that a test can wait for a line.
/// </summary>
internal sealed class RunningService : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _waits = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunningService(string folder, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = ServiceCommand.StartInfo(folder, environment, args);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, line) => Received(line.Data);
        _process.ErrorDataReceived += (_, line) => Received(line.Data);
        _process.Exited += (_, _) => _exited.TrySetResult();
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The service's process id (<c>dotnet aap.dll</c> runs the service in the host's own process).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Everything written so far (standard output and error, in arrival order).</summary>
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

    /// <summary>Waits for the first line matching <paramref name="pattern"/> (one already written counts).</summary>
    public async Task<Match> WaitForAsync(Regex pattern, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }

            _waits.Add((pattern, seen));
        }

        var first = await Task.WhenAny(seen.Task, _exited.Task.ContinueWith(_ => Task.Delay(500, CancellationToken.None), cancellationToken, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap())
            .WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        return first == seen.Task
            ? await seen.Task
            : throw new InvalidOperationException($"aap exited before writing a line matching {pattern}:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }

    private void Received(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var wait in _waits.Where(w => !w.Seen.Task.IsCompleted))
            {
                if (wait.Pattern.Match(line) is { Success: true } match)
                {
                    wait.Seen.TrySetResult(match);
                }
            }
        }
    }
}
