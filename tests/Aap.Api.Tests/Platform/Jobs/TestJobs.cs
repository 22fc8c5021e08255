using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Platform.Jobs;

/// <summary>A job that says it started and then waits for the test to let it finish: a run that is "running" on demand.</summary>
internal sealed class GatedJob(JobGate gate) : IScheduledJob
{
    public const string Name = "test-gated";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        gate.Started.TrySetResult();
        await gate.Release.Task.WaitAsync(cancellationToken);
        return 1;
    }
}

/// <summary>
/// A job that reports its progress twice in a row (40 items, then 41 at once: the second is within the second and not
/// written), says it started, waits for the test to let it finish, and ends with 42 items.
/// </summary>
internal sealed class ProgressJob(JobGate gate, JobProgress progress) : IScheduledJob
{
    public const string Name = "test-progress";

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        await progress.ReportAsync(40, cancellationToken);
        await progress.ReportAsync(41, cancellationToken);
        gate.Started.TrySetResult();
        await gate.Release.Task.WaitAsync(cancellationToken);
        return 42;
    }
}

/// <summary>A job that always fails, to see a failure recorded and reported.</summary>
internal sealed class FailingJob : IScheduledJob
{
    public const string Name = "test-failing";

    public Task<long> RunAsync(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The remote list was empty.\nSecond line.");
}

internal sealed class JobGate
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal static class TestJobs
{
    /// <summary>Registers <see cref="GatedJob"/> in the factory's application (scheduled once a year: it runs when asked).</summary>
    public static JobGate WithGatedJob(this AapFactory factory)
    {
        var gate = new JobGate();
        factory.WithServices(services =>
        {
            services.AddSingleton(gate);
            services.AddScoped<GatedJob>();
            services.AddScoped<QuartzJob<GatedJob>>();
            services.AddSingleton(new JobRegistration(GatedJob.Name, "A test job that waits for its signal.", "0 0 0 1 1 ?", typeof(GatedJob)));
        });
        return gate;
    }

    /// <summary>Registers <see cref="ProgressJob"/> (scheduled once a year: it runs when asked).</summary>
    public static JobGate WithProgressJob(this AapFactory factory)
    {
        var gate = new JobGate();
        factory.WithServices(services => services.AddSingleton(gate)).WithJob<ProgressJob>(ProgressJob.Name, "0 0 0 1 1 ?");
        return gate;
    }

    public static AapFactory WithJob<TJob>(this AapFactory factory, string name, string cron) where TJob : class, IScheduledJob =>
        factory.WithServices(services =>
        {
            services.AddScoped<TJob>();
            services.AddScoped<QuartzJob<TJob>>();
            services.AddSingleton(new JobRegistration(name, $"A test job ({name}).", cron, typeof(TJob)));
        });

    /// <summary>Polls a run until it has finished (or the deadline passes), and returns its last state.</summary>
    public static async Task<System.Text.Json.JsonElement> FinishedRunAsync(this HttpClient admin, string job, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        System.Text.Json.JsonElement run;
        do
        {
            using var response = await admin.GetAsync($"/api/v1/admin/jobs/{job}/runs/{id}", TestContext.Current.CancellationToken);
            response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
            run = (await response.JsonAsync()).GetProperty("data");
            if (run.GetProperty("finished_at").ValueKind != System.Text.Json.JsonValueKind.Null)
            {
                return run;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The run {id} of {job} did not finish in time; last seen: {run}");
    }
}
