using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Platform.Jobs;

internal sealed record JobRunAccepted(string RunId, string Job, string Status);

/// <summary><c>/api/v1/admin/jobs</c>: the scheduled jobs, their history, and run now, pause and resume (admins only).</summary>
internal static class JobsEndpoints
{
    private const string Tag = "Admin: jobs";

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder endpoints)
    {
        var jobs = endpoints.MapGroup("/api/v1/admin/jobs").WithTags(Tag).RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403);
        jobs.MapGet("", ListJobs).WithName("ListJobs")
            .WithSummary("Every scheduled job: name, description, cron schedule and time zone, next run, last run with its outcome and items, paused, and the run in progress with its items so far.");
        jobs.MapGet("/{name}/runs", ListJobRuns).WithName("ListJobRuns").ProducesProblem(400).ProducesProblem(404).PagesByKeyset<JobRunResponse>()
            .WithSummary("A job's runs, newest first, by page number or by cursor: status (queued, running, succeeded, failed, cancelled), attempt, items handled, error, node.");
        jobs.MapGet("/{name}/runs/{id}", GetJobRun).WithName("GetJobRun").ProducesProblem(404)
            .WithSummary("One run of a job, as run now's Location points to it.");
        jobs.MapPost("/{name}/run", RunJob).WithName("RunJob").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Queue a run of the job now (202 with the run's id); 409 while a run of it is queued or running on any node.");
        jobs.MapPost("/{name}/pause", PauseJob).WithName("PauseJob").ProducesProblem(404)
            .WithSummary("Stop the job's schedule (a run in progress finishes); it has no next run until resumed.");
        jobs.MapPost("/{name}/resume", ResumeJob).WithName("ResumeJob").ProducesProblem(404)
            .WithSummary("Start the job's schedule again from its next occurrence.");
        return endpoints;
    }

    internal static async Task<Ok<Envelope<IReadOnlyList<JobResponse>>>> ListJobs(JobsService jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(new Envelope<IReadOnlyList<JobResponse>>(await jobs.ListAsync(cancellationToken)));

    internal static async Task<Results<Ok<KeysetEnvelope<JobRunResponse>>, Ok<PagedEnvelope<JobRunResponse>>, ProblemHttpResult>> ListJobRuns(
        string name, [Microsoft.AspNetCore.Http.AsParameters] PageQuery paging, JobsService jobs, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            var slice = await jobs.RunsAsync(name, keyset, cancellationToken);
            return slice.Succeeded ? Keyset.Ok(context, slice.Value) : slice.Failure.ToProblem();
        }

        var runs = await jobs.RunsAsync(name, paging, cancellationToken);
        if (!runs.Succeeded)
        {
            return runs.Failure.ToProblem();
        }

        context.Response.Headers.Link = Paging.LinkHeader(context.Request, runs.Value.Meta);
        return TypedResults.Ok(runs.Value);
    }

    internal static async Task<Results<Ok<Envelope<JobRunResponse>>, ProblemHttpResult>> GetJobRun(
        string name, string id, JobsService jobs, CancellationToken cancellationToken)
    {
        var run = await jobs.RunAsync(name, id, cancellationToken);
        return run.Succeeded ? TypedResults.Ok(new Envelope<JobRunResponse>(run.Value)) : run.Failure.ToProblem();
    }

    internal static async Task<Results<Accepted<Envelope<JobRunAccepted>>, ProblemHttpResult>> RunJob(
        string name, JobsService jobs, CancellationToken cancellationToken)
    {
        var queued = await jobs.TriggerAsync(name, cancellationToken);
        return queued.Succeeded
            ? TypedResults.Accepted($"/api/v1/admin/jobs/{Uri.EscapeDataString(name)}/runs/{queued.Value}",
                new Envelope<JobRunAccepted>(new JobRunAccepted(queued.Value, name, JobRunStatus.Queued)))
            : queued.Failure.ToProblem();
    }

    internal static Task<Results<NoContent, ProblemHttpResult>> PauseJob(string name, JobsService jobs, CancellationToken cancellationToken) =>
        PauseOrResumeAsync(name, pause: true, jobs, cancellationToken);

    internal static Task<Results<NoContent, ProblemHttpResult>> ResumeJob(string name, JobsService jobs, CancellationToken cancellationToken) =>
        PauseOrResumeAsync(name, pause: false, jobs, cancellationToken);

    private static async Task<Results<NoContent, ProblemHttpResult>> PauseOrResumeAsync(string name, bool pause, JobsService jobs, CancellationToken cancellationToken) =>
        await jobs.PauseAsync(name, pause, cancellationToken) is { } failure ? failure.ToProblem() : TypedResults.NoContent();
}
