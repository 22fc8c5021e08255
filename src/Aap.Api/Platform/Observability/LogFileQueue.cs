using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// The log file's queue. A logging thread (a request's, say) hands its event over and goes on; one background thread
/// wakes every <see cref="Interval"/> and writes whatever has queued up to the file in one pass. Nobody is woken for
/// an event: at thousands of requests a second, a queue that wakes its reader for each event (as
/// Serilog.Sinks.Async's does) spends more of the machine on the waking and the reader's spinning than on the event.
/// When <c>capacity</c> events wait, a logging thread wakes the writer and waits for room rather than lose its event
/// (threads that find room at the same moment may each add one more).
/// <see cref="Dispose"/> writes everything queued and then disposes the file's sink, which flushes the file: the
/// logger does it when it is disposed (the host when it stops, the CLI before it exits). The JSON console sits behind
/// a queue of its own (<see cref="ConsoleLogWriter"/>), which is told after each pass to write out what it buffered.
/// </summary>
internal sealed class LogFileQueue : ILogEventSink, IDisposable
{
    /// <summary>The longest an event waits in the queue before the writer takes it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly ILogEventSink _file;
    private readonly int _capacity;
    private readonly ConcurrentQueue<LogEvent> _queue = new();

    // The writer waits on _gate between passes (a logging thread that finds the queue full wakes it there); logging
    // threads wait on _room until the writer has made some. Two monitors, so that waiting threads never wake each other.
    private readonly object _gate = new();
    private readonly object _room = new();
    private readonly object _closing = new();
    private readonly Thread _writer;
    private int _count;
    private bool _woken;
    private volatile bool _stopping;
    private bool _closed;

    public LogFileQueue(ILogEventSink file, int capacity, string threadName = "Log file writer")
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _file = file;
        _capacity = capacity;
        _writer = new Thread(Run) { IsBackground = true, Name = threadName };
        _writer.Start();
    }

    public void Emit(LogEvent logEvent)
    {
        if (_stopping)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= _capacity)
        {
            WaitForRoom();
        }

        Interlocked.Increment(ref _count);
        _queue.Enqueue(logEvent);
    }

    /// <summary>
    /// Writes what is queued and closes the file. Every call returns only once that is done, whichever call did it:
    /// the host and its owner may both dispose the logger, on two threads, and the second must not return early.
    /// </summary>
    public void Dispose()
    {
        // The writer's last pass also wakes any thread still waiting for room, which then sees the stop.
        _stopping = true;
        WakeWriter();
        _writer.Join();
        lock (_closing)
        {
            // Set first: should the file's own dispose throw, the caller sees it once and a later call does not retry.
            if (!_closed)
            {
                _closed = true;
                (_file as IDisposable)?.Dispose();
            }
        }
    }

    private void WaitForRoom()
    {
        while (Volatile.Read(ref _count) >= _capacity && !_stopping)
        {
            WakeWriter();
            lock (_room)
            {
                // Checked again under the lock the writer takes to announce room, so that announcement is not missed.
                if (Volatile.Read(ref _count) >= _capacity && !_stopping)
                {
                    Monitor.Wait(_room, Interval);
                }
            }
        }
    }

    private void WakeWriter()
    {
        lock (_gate)
        {
            _woken = true;
            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            lock (_gate)
            {
                if (!_woken)
                {
                    Monitor.Wait(_gate, Interval);
                }

                _woken = false;
            }

            WriteQueued();
        }

        WriteQueued();
    }

    private void WriteQueued()
    {
        var written = false;
        while (_queue.TryDequeue(out var logEvent))
        {
            try
            {
                _file.Emit(logEvent);
            }
            catch (Exception ex)
            {
                Report(ex);
            }

            written = true;
            Interlocked.Decrement(ref _count);
        }

        if (written && _file is IFlushedAfterEachPass flushed)
        {
            try
            {
                flushed.Flush();
            }
            catch (Exception ex)
            {
                Report(ex);
            }
        }

        // Tells logging threads waiting for room that there is some; with none waiting, the pulse costs next to nothing.
        lock (_room)
        {
            Monitor.PulseAll(_room);
        }
    }

    /// <summary>Tells Serilog's own diagnostics; nothing may escape the writer's thread, which would end the process.</summary>
    private static void Report(Exception refused)
    {
        try
        {
            SelfLog.WriteLine("The log output (file or console) refused an event: {0}", refused);
        }
        catch (Exception)
        {
            // Serilog's diagnostics output is itself broken: there is nowhere left to say so.
        }
    }
}

/// <summary>
/// A sink behind a <see cref="LogFileQueue"/> that buffers what it is given and writes it out when told that the
/// queue's writer has taken everything queued (once per pass, every <see cref="LogFileQueue.Interval"/> at most).
/// </summary>
internal interface IFlushedAfterEachPass
{
    void Flush();
}
