using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Platform.Jobs;

/// <summary>Several nodes on one PostgreSQL database share one clustered scheduler: each occurrence runs on one node, once.</summary>
public sealed class ClusteredJobsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_on_one_PostgreSQL_database_run_each_occurrence_of_a_short_schedule_once()
    {
        await using var first = new PostgresFactory();
        await first.CreateDatabaseAsync();
        await using var second = PostgresFactory.AnotherNodeOf(first);
        foreach (var node in new AapFactory[] { first, second })
        {
            // Every second, through configuration (Jobs:Schedules overrides the registered yearly cron).
            node.WithJob<TickJob>(TickJob.Name, "0 0 0 1 1 ?").With($"Jobs:Schedules:{TickJob.Name}", "0/1 * * * * ?")
                .With("Jobs:Cluster:CheckinIntervalSeconds", "1").With("Jobs:Cluster:CheckinMisfireThresholdSeconds", "5");
        }

        await Task.WhenAll(new AapFactory[] { first, second }.Select(node => Task.Run(async () => await node.InitializeAsync(), Ct)));

        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<JobRun> runs;
        do
        {
            await Task.Delay(200, Ct);
            runs = await first.DbAsync(db => db.Set<JobRun>().AsNoTracking().Where(r => r.Job == TickJob.Name && r.Status == JobRunStatus.Succeeded).ToListAsync(Ct));
        }
        while (runs.Count < 6 && DateTime.UtcNow < deadline);

        runs.Count.ShouldBeGreaterThanOrEqualTo(6);
        runs.GroupBy(r => r.ScheduledAt).Where(g => g.Count() > 1).Select(g => g.Key).ShouldBeEmpty("no occurrence ran twice");
        runs.ShouldAllBe(r => r.Manual == false && r.Node != null && r.ScheduledAt != null);
    }
}
