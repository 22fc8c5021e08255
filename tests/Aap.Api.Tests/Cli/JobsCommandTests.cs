using System.CommandLine;
using Aap.Api.Cli;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Jobs;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Cli;

/// <summary><c>aap jobs list | run NAME | runs NAME</c>.</summary>
public sealed class JobsCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_list_run_and_runs_show_the_jobs_run_one_here_and_report_its_outcome()
    {
        await using var factory = new SqliteFactory();
        factory.WithJob<FailingJob>(FailingJob.Name, "0 0 0 1 1 ?");
        await factory.InitializeAsync();
        var user = await factory.RegisterAsync();
        await factory.LoginAsync(user);
        var longAgo = factory.Clock.GetUtcNow().UtcDateTime.AddDays(-30);
        await factory.DbAsync(db => db.Set<RefreshToken>().Where(t => t.UserId == user.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, longAgo), Ct));

        var (listed, list, _) = await RunAsync(factory, "list");
        listed.ShouldBe(0);
        foreach (var name in new[] { "refresh-token-purge", "deleted-file-purge", "idempotency-expiry", "job-history-trim", FailingJob.Name })
        {
            list.ShouldContain(name);
        }

        var (ran, output, error) = await RunAsync(factory, "run", "refresh-token-purge");
        error.ShouldBeEmpty();
        ran.ShouldBe(0);
        output.ShouldStartWith("refresh-token-purge: succeeded, 1 item(s)");
        (await factory.DbAsync(db => db.Set<RefreshToken>().CountAsync(t => t.UserId == user.Id, Ct))).ShouldBe(0);
        var run = await factory.DbAsync(db => db.Set<JobRun>().AsNoTracking().SingleAsync(r => r.Job == "refresh-token-purge", Ct));
        (run.Status, run.Items, run.Manual).ShouldBe((JobRunStatus.Succeeded, 1L, true));
        run.Node.ShouldStartWith("cli@");

        var (failed, failure, _) = await RunAsync(factory, "run", FailingJob.Name);
        failed.ShouldBe(1);
        failure.ShouldContain("failed");
        failure.ShouldContain("InvalidOperationException: The remote list was empty. Second line.");

        var (history, runs, _) = await RunAsync(factory, "runs", FailingJob.Name);
        history.ShouldBe(0);
        runs.ShouldContain("failed");

        var (unknown, _, unknownError) = await RunAsync(factory, "run", "no-such-job");
        unknown.ShouldBe(1);
        unknownError.ShouldContain("'no-such-job' was not found");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(SqliteFactory factory, params string[] args)
    {
        var root = new RootCommand { JobsCommand.Create(factory.Services) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await root.Parse(["jobs", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, Ct);
        return (exitCode, output.ToString(), error.ToString());
    }
}
