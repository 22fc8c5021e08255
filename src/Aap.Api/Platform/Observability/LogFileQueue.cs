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
/// logger does it when it is disposed (the host when it stops, the CLI before it exits).
/// </summary>
internal sealed class LogFileQueue : ILogEventSink, IDisposable
{
    /// <summary>The longest an event waits in the queue before the writer takes it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly ILogEventSink _file;
    private readonly int _capacity;
    private readonly ConcurrentQueue<LogEvent> _queue = new();

    // The writer waits on it between passes; a logging thread that finds the queue full wakes the writer through it
    // and waits on it for room.
    private readonly object _gate = new();
    private readonly object _closing = new();
    private readonly Thread _writer;
    private int _count;
    private int _waitingForRoom;
    private bool _woken;
    private volatile bool _stopping;
    private bool _closed;

    public LogFileQueue(ILogEventSink file, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _file = file;
        _capacity = capacity;
        _writer = new Thread(Run) { IsBackground = true, Name = "Log file writer" };
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
        _stopping = true;
        lock (_gate)
        {
            _woken = true;
            Monitor.PulseAll(_gate);
        }

        _writer.Join();
        lock (_closing)
        {
            if (!_closed)
            {
                _closed = true;
                (_file as IDisposable)?.Dispose();
            }
        }
    }

    private void WaitForRoom()
    {
        Interlocked.Increment(ref _waitingForRoom);
        lock (_gate)
        {
            while (Volatile.Read(ref _count) >= _capacity && !_stopping)
            {
                _woken = true;
                Monitor.PulseAll(_gate);
                Monitor.Wait(_gate, Interval);
            }
        }

        Interlocked.Decrement(ref _waitingForRoom);
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
        while (_queue.TryDequeue(out var logEvent))
        {
            try
            {
                _file.Emit(logEvent);
            }
            catch (Exception ex)
            {
                SelfLog.WriteLine("The log file refused an event: {0}", ex);
            }

            Interlocked.Decrement(ref _count);
        }

        if (Volatile.Read(ref _waitingForRoom) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }
}
