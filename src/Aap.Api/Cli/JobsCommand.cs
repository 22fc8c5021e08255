using System.CommandLine;
using System.Globalization;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence.Migrations;

namespace Aap.Api.Cli;

/// <summary><c>aap jobs list | run NAME | runs NAME</c>: the scheduled jobs from the command line.</summary>
internal static class JobsCommand
{
    public static Command Create(IServiceProvider services)
    {
        var list = new Command("list", "List the scheduled jobs: schedule, next run, last run and its outcome.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = await PreparedScopeAsync(services, cancellationToken);
            var jobs = await scope.ServiceProvider.GetRequiredService<JobsService>().ListAsync(cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"{"NAME",-22} {"SCHEDULE",-16} {"NEXT RUN (UTC)",-20} {"LAST RUN (UTC)",-20} {"OUTCOME",-10} PAUSED");
            foreach (var job in jobs)
            {
                await output.WriteLineAsync(
                    $"{job.Name,-22} {job.Schedule,-16} {Time(job.NextRun),-20} {Time(job.LastRun),-20} {job.LastOutcome ?? "-",-10} {(job.Paused ? "yes" : "no")}");
            }

            return 0;
        });

        var runName = new Argument<string>("name") { Description = "The job's name, as aap jobs list shows it." };
        var run = new Command("run", "Run a job now, in this process, and print its outcome (exit code 1 when it fails).") { runName };
        run.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = await PreparedScopeAsync(services, cancellationToken);
            var name = parse.GetRequiredValue(runName);
            var done = await scope.ServiceProvider.GetRequiredService<JobsService>().RunHereAsync(name, $"cli@{Environment.MachineName}", cancellationToken);
            if (!done.Succeeded)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"aap: {done.Failure.Detail}");
                return 1;
            }

            var result = done.Value;
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"{result.Job}: {result.Status}, {result.Items?.ToString(CultureInfo.InvariantCulture) ?? "0"} item(s){(result.Error is null ? "" : $": {result.Error}")} (run {result.Id}).");
            return result.Status == JobRunStatus.Succeeded ? 0 : 1;
        });

        var runsName = new Argument<string>("name") { Description = "The job's name." };
        var size = new Option<int>("--size") { Description = "How many runs (1-100, default 20).", DefaultValueFactory = _ => 20 };
        size.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > PageQuery.MaxSize)
            {
                result.AddError($"--size must be 1 to {PageQuery.MaxSize}.");
            }
        });
        var runs = new Command("runs", "A job's latest runs, newest first.") { runsName, size };
        runs.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = await PreparedScopeAsync(services, cancellationToken);
            var page = await scope.ServiceProvider.GetRequiredService<JobsService>()
                .RunsAsync(parse.GetRequiredValue(runsName), new PageQuery { Size = parse.GetValue(size) }, cancellationToken);
            if (!page.Succeeded)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"aap: {page.Failure.Detail}");
                return 1;
            }

            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"{"STARTED (UTC)",-20} {"STATUS",-10} {"ITEMS",6} {"ATTEMPT",7} {"MANUAL",6} ERROR");
            foreach (var r in page.Value.Data)
            {
                await output.WriteLineAsync($"{Time(r.StartedAt ?? r.QueuedAt),-20} {r.Status,-10} {r.Items?.ToString(CultureInfo.InvariantCulture) ?? "-",6} {r.Attempt,7} {(r.Manual ? "yes" : "no"),6} {r.Error}");
            }

            return 0;
        });

        return new Command("jobs", "Scheduled jobs: list them, run one now, read a job's runs.") { list, run, runs };
    }

    /// <summary>A scope on a migrated database: the run history and the scheduler's tables exist.</summary>
    private static async Task<AsyncServiceScope> PreparedScopeAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        return scope;
    }

    private static string Time(DateTime? value) => value?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
}
