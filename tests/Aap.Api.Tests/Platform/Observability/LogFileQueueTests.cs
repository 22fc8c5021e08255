using System.Collections.Concurrent;
using Aap.Api.Platform.Observability;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace Aap.Api.Tests.Platform.Observability;

/// <summary>
/// The log file's queue (<see cref="LogFileQueue"/>): events reach the file while the service runs, a full queue
/// makes the logging thread wait instead of losing its event, an event the file refuses does not stop the others,
/// and a stop writes everything queued before the file is closed. The whole-host guards of a stop are in
/// <see cref="LogFileShutdownTests"/>.
/// </summary>
public sealed class LogFileQueueTests
{
    private static readonly MessageTemplate Template = new MessageTemplateParser().Parse("Queue probe {Writer} {Number}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_event_reaches_the_log_file_while_the_service_runs()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var logger = host.Services.GetRequiredService<Serilog.ILogger>();

        logger.Information("Running probe {ProbeNumber}", 7);

        // The queue's writer takes it within its interval and the file is flushed every second; no stop in between.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var found = false;
        while (!found && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
            found = LogFiles.ReadAll(host.DataDirectory).Any(l => l.Contains("Running probe", StringComparison.Ordinal) && l.Contains("\"ProbeNumber\":7", StringComparison.Ordinal));
        }

        found.ShouldBeTrue("the event is in the file before the host stops");
    }

    [Fact]
    public async Task A_full_queue_makes_the_logging_threads_wait_and_every_event_is_written_in_each_threads_order()
    {
        const int capacity = 5;
        const int writers = 4;
        const int perWriter = 50;
        using var gate = new SemaphoreSlim(0);
        var file = new RecordingSink { Gate = gate };
        var emitted = 0;
        using var started = new CountdownEvent(writers);
        var queue = new LogFileQueue(file, capacity);
        // Threads of their own rather than the pool's, so that all four are logging at once however few the cores.
        var logging = Enumerable.Range(0, writers).Select(writer => new Thread(() =>
        {
            started.Signal();
            for (var i = 0; i < perWriter; i++)
            {
                queue.Emit(Probe(writer, i));
                Interlocked.Increment(ref emitted);
            }
        }) { IsBackground = true, Name = $"Logging thread {writer}" }).ToArray();
        try
        {
            foreach (var thread in logging)
            {
                thread.Start();
            }

            started.Wait(Ct);

            // The file takes no event while the gate is shut: once the count stops moving, the logging threads are
            // waiting for room, with at most the queue's capacity queued, the event in the writer's hands, and one
            // more per thread that found room at the same moment.
            var seen = -1;
            while (Volatile.Read(ref emitted) != seen || seen < capacity)
            {
                seen = Volatile.Read(ref emitted);
                await Task.Delay(300, Ct);
            }

            seen.ShouldBeLessThanOrEqualTo(capacity + 1 + writers);
            logging.ShouldAllBe(t => t.IsAlive, "every logging thread waits for room");

            gate.Release(writers * perWriter);
            foreach (var thread in logging)
            {
                thread.Join(TimeSpan.FromMinutes(2)).ShouldBeTrue($"{thread.Name} has logged everything");
            }
        }
        finally
        {
            // Never leave the writer at a shut gate, whatever failed above.
            gate.Release(writers * perWriter);
            queue.Dispose();
        }

        file.Events.Count.ShouldBe(writers * perWriter);
        for (var writer = 0; writer < writers; writer++)
        {
            file.Events.Where(e => Writer(e) == writer).Select(Number).ShouldBe(Enumerable.Range(0, perWriter), $"writer {writer}'s events, in its order");
        }
    }

    [Fact]
    public void A_stop_writes_every_queued_event_then_closes_the_file_once_and_later_events_are_dropped_quietly()
    {
        var file = new RecordingSink();
        var queue = new LogFileQueue(file, 100_000);
        for (var i = 0; i < 5_000; i++)
        {
            queue.Emit(Probe(0, i));
        }

        queue.Dispose();

        file.Events.Select(Number).ShouldBe(Enumerable.Range(0, 5_000));
        file.Disposals.ShouldBe(1);
        queue.Emit(Probe(0, 5_000));
        queue.Dispose();
        file.Events.Count.ShouldBe(5_000);
        file.Disposals.ShouldBe(1);
    }

    [Fact]
    public async Task A_second_stop_on_another_thread_returns_only_once_the_first_has_written_everything()
    {
        using var gate = new SemaphoreSlim(0);
        var file = new RecordingSink { Gate = gate };
        var queue = new LogFileQueue(file, 1_000);
        for (var i = 0; i < 100; i++)
        {
            queue.Emit(Probe(0, i));
        }

        var first = Task.Run(queue.Dispose, Ct);
        var second = Task.Run(queue.Dispose, Ct);
        // What the file had at the moment each stop returned, whenever that was.
        var atFirst = first.ContinueWith(_ => (file.Events.Count, file.Disposals), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var atSecond = second.ContinueWith(_ => (file.Events.Count, file.Disposals), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await Task.Delay(300, Ct);
            second.IsCompleted.ShouldBeFalse("the second stop waits while the file still has events to take");
            first.IsCompleted.ShouldBeFalse("so does the first");
        }
        finally
        {
            gate.Release(100);
        }

        await Task.WhenAll(first, second);
        (await atFirst).ShouldBe((100, 1), "every event written and the file closed when the first stop returned");
        (await atSecond).ShouldBe((100, 1), "and when the second did");
        file.Events.Select(Number).ShouldBe(Enumerable.Range(0, 100));
        file.Disposals.ShouldBe(1);
    }

    [Fact]
    public void An_event_the_file_refuses_does_not_stop_the_events_after_it()
    {
        var file = new RecordingSink { Refuses = e => Number(e) == 3 };
        using (var queue = new LogFileQueue(file, 10))
        {
            for (var i = 0; i < 8; i++)
            {
                queue.Emit(Probe(0, i));
            }
        }

        file.Events.Select(Number).ShouldBe([0, 1, 2, 4, 5, 6, 7]);
    }

    private static LogEvent Probe(int writer, int number) => new(
        DateTimeOffset.UtcNow, LogEventLevel.Information, null, Template,
        [new LogEventProperty("Writer", new ScalarValue(writer)), new LogEventProperty("Number", new ScalarValue(number))]);

    private static int Writer(LogEvent e) => (int)((ScalarValue)e.Properties["Writer"]).Value!;

    private static int Number(LogEvent e) => (int)((ScalarValue)e.Properties["Number"]).Value!;

    /// <summary>Stands in for the file's sink: keeps what it is given, optionally waiting at a gate or refusing some events.</summary>
    private sealed class RecordingSink : ILogEventSink, IDisposable
    {
        private readonly ConcurrentQueue<LogEvent> _events = new();
        private int _disposals;

        public SemaphoreSlim? Gate { get; init; }

        public Func<LogEvent, bool>? Refuses { get; init; }

        public IReadOnlyList<LogEvent> Events => [.. _events];

        public int Disposals => Volatile.Read(ref _disposals);

        public void Emit(LogEvent logEvent)
        {
            Gate?.Wait();
            if (Refuses?.Invoke(logEvent) == true)
            {
                throw new IOException("No space left on device");
            }

            _events.Enqueue(logEvent);
        }

        public void Dispose() => Interlocked.Increment(ref _disposals);
    }
}
