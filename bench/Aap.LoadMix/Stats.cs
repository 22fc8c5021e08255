using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Aap.LoadMix;

/// <summary>
/// The run's bounds, shared by every worker: its end in time and in requests, and with a rate the users' schedule:
/// one slot every 1/rate seconds from the start, taken in turn by whichever user is free.
/// </summary>
internal sealed class Run(MixOptions options)
{
    private long _started = Stopwatch.GetTimestamp();
    private readonly double _ticksPerSlot = options.Rate > 0 ? (double)Stopwatch.Frequency / options.Rate : 0;
    private long _requests;
    private long _slots;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Takes one request of the budget; false once the time or the count is spent.</summary>
    public bool TryTake() =>
        Stopwatch.GetElapsedTime(_started) < options.Duration && Interlocked.Increment(ref _requests) <= options.MaxRequests;

    /// <summary>Starts the run's clock (and its schedule) again, after what was done before it.</summary>
    public void Restart() => _started = Stopwatch.GetTimestamp();

    public bool Over => Stopwatch.GetElapsedTime(_started) >= options.Duration || Requests >= options.MaxRequests;

    /// <summary>
    /// With a rate, waits for the next slot of the schedule and returns when it was due (a user that is late takes it
    /// at once), or null when the slot falls after the run's end; without one, 0 at once.
    /// </summary>
    public async ValueTask<long?> NextSlotAsync()
    {
        if (_ticksPerSlot == 0)
        {
            return 0;
        }

        var due = _started + (long)((Interlocked.Increment(ref _slots) - 1) * _ticksPerSlot);
        if (Stopwatch.GetElapsedTime(_started, due) >= options.Duration)
        {
            return null;
        }

        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        return due;
    }
}

/// <summary>
/// Each operation's answers: time of every answer, and the count per status. An expected business answer (a
/// transfer the balance does not cover, a completion another admin reviewed first) is counted apart from errors.
/// Each worker records into its own <see cref="Recorder"/>; the report merges them.
/// </summary>
internal sealed class Stats
{
    private readonly List<Recorder> _recorders = [];

    public Recorder ForWorker()
    {
        var recorder = new Recorder();
        lock (_recorders)
        {
            _recorders.Add(recorder);
        }

        return recorder;
    }

    public string Report(TimeSpan elapsed, MixOptions options)
    {
        var operations = _recorders.SelectMany(r => r.Operations).GroupBy(o => o.Key)
            .Select(g => (Name: g.Key, Times: g.SelectMany(o => o.Value.Times).Order().ToArray(),
                Statuses: g.SelectMany(o => o.Value.Statuses).GroupBy(s => s.Key).ToDictionary(s => s.Key, s => s.Sum(x => x.Value)),
                Expected: g.SelectMany(o => o.Value.Expected).GroupBy(s => s.Key).ToDictionary(s => s.Key, s => s.Sum(x => x.Value)),
                Samples: g.SelectMany(o => o.Value.ErrorSamples).Take(3).ToList()))
            .OrderBy(o => Array.IndexOf(Order, o.Name)).ToList();
        var seconds = elapsed.TotalSeconds;
        var total = operations.Sum(o => o.Times.Length);
        var all = operations.SelectMany(o => o.Times).Order().ToArray();
        var errors = operations.Sum(o => o.Statuses.Where(s => !IsSuccess(s.Key)).Sum(s => s.Value) - o.Expected.Values.Sum());
        var completions = operations.Where(o => o.Name == "complete").Sum(o => o.Statuses.GetValueOrDefault(201));
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        var paced = options.Rate > 0 ? $", the users paced at {options.Rate} requests/s in all (times from when each request was due)" : "";
        text.AppendLine(c, $"mode {options.Mode}: {options.Users} users, {options.Admins} admins, {seconds:F1} s{paced}");
        text.AppendLine(c, $"{"operation",-12} {"count",8} {"per s",8} {"errors",7} {"expected",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}");
        foreach (var o in operations)
        {
            var expected = o.Expected.Values.Sum();
            var failed = o.Statuses.Where(s => !IsSuccess(s.Key)).Sum(s => s.Value) - expected;
            text.AppendLine(c, $"{o.Name,-12} {o.Times.Length,8} {o.Times.Length / seconds,8:F1} {failed,7} {expected,9} {P(o.Times, 50),8:F1} {P(o.Times, 95),8:F1} {P(o.Times, 99),8:F1} {P(o.Times, 100),8:F1}");
        }

        text.AppendLine(c, $"{"all",-12} {total,8} {total / seconds,8:F1} {errors,7} {operations.Sum(o => o.Expected.Values.Sum()),9} {P(all, 50),8:F1} {P(all, 95),8:F1} {P(all, 99),8:F1} {P(all, 100),8:F1}");
        // Sign-ins are as slow as the password hash makes them on purpose: the rest of the mix is also shown without them.
        var butSignIn = operations.Where(o => o.Name != "sign-in").SelectMany(o => o.Times).Order().ToArray();
        text.AppendLine(c, $"{"all but sign-in",-16} {butSignIn.Length,4} {butSignIn.Length / seconds,8:F1} {"",7} {"",9} {P(butSignIn, 50),8:F1} {P(butSignIn, 95),8:F1} {P(butSignIn, 99),8:F1} {P(butSignIn, 100),8:F1}");
        text.AppendLine(c, $"completions/s: {completions / seconds:F1} ({completions} completions)");
        foreach (var o in operations)
        {
            var failures = o.Statuses.Where(s => !IsSuccess(s.Key)).Select(s => (s.Key, Count: s.Value - o.Expected.GetValueOrDefault(s.Key))).Where(s => s.Count > 0).ToList();
            if (failures.Count > 0)
            {
                text.AppendLine(c, $"errors of {o.Name}: {string.Join(", ", failures.Select(f => $"{(f.Key == 0 ? "no answer" : f.Key.ToString(c))} x{f.Count}"))}");
                foreach (var sample in o.Samples)
                {
                    text.AppendLine(c, $"  e.g. {sample}");
                }
            }

            if (o.Expected.Count > 0)
            {
                text.AppendLine(c, $"expected answers of {o.Name}: {string.Join(", ", o.Expected.Select(e => $"{e.Key} x{e.Value}"))}");
            }
        }

        text.AppendLine(c, $"result requests={total} seconds={seconds:F1} rps={total / seconds:F1} errors={errors} p99_ms={P(all, 99):F1} p99_but_sign_in_ms={P(butSignIn, 99):F1} completions_per_s={completions / seconds:F1}"
            + $" complete_p95_ms={P(operations.Where(o => o.Name == "complete").SelectMany(o => o.Times).Order().ToArray(), 95):F1} rate={options.Rate}");
        return text.ToString();
    }

    private static readonly string[] Order = ["sign-in", "catalog", "complete", "transfer", "review-list", "approve", "reject"];

    private static bool IsSuccess(int status) => status is >= 200 and < 300;

    private static double P(double[] sorted, int percent) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * percent / 100.0) - 1, 0, sorted.Length - 1)];
}

/// <summary>One worker's records; never shared between threads while the run lasts.</summary>
internal sealed class Recorder
{
    public Dictionary<string, Operation> Operations { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// In a paced run, when the worker's current slot was due (<see cref="Run.NextSlotAsync"/>): its answers are
    /// timed from then rather than from their send, so that a user held up by a slow answer counts the wait of the
    /// requests it sends late. 0 in a closed loop.
    /// </summary>
    public long Due { get; set; }

    /// <summary>Records an answer; an expected status is one the operation may answer in normal use.</summary>
    public void Add(string operation, Answer answer, params int[] expected)
    {
        if (!Operations.TryGetValue(operation, out var o))
        {
            Operations[operation] = o = new Operation();
        }

        o.Times.Add(Due == 0 ? answer.Milliseconds : Stopwatch.GetElapsedTime(Due).TotalMilliseconds);
        o.Statuses[answer.Status] = o.Statuses.GetValueOrDefault(answer.Status) + 1;
        if (!answer.Succeeded && expected.Contains(answer.Status))
        {
            o.Expected[answer.Status] = o.Expected.GetValueOrDefault(answer.Status) + 1;
        }
        else if (!answer.Succeeded && o.ErrorSamples.Count < 3)
        {
            o.ErrorSamples.Add($"{answer.Status}: {(answer.Body.Length > 300 ? answer.Body[..300] : answer.Body)}");
        }
    }
}

internal sealed class Operation
{
    public List<double> Times { get; } = [];

    public Dictionary<int, long> Statuses { get; } = [];

    public Dictionary<int, long> Expected { get; } = [];

    public List<string> ErrorSamples { get; } = [];
}
