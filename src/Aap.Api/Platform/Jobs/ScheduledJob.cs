namespace Aap.Api.Platform.Jobs;

/// <summary>
/// A job the scheduler runs: one occurrence is one call. It returns how many items it handled (tokens purged, files
/// removed), which the run history records. It must honour <paramref name="cancellationToken"/>: it is cancelled when
/// the node shuts down, and the run is then recorded as cancelled and recovered by another node.
/// </summary>
internal interface IScheduledJob
{
    Task<long> RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One job as a feature registered it: its name, what it does and its default cron schedule; <paramref name="Queued"/>
/// when requests also wake it through <see cref="IBackgroundJobs"/> (the cron is then its safety sweep).
/// </summary>
internal sealed record JobRegistration(string Name, string Description, string Cron, Type JobType, bool Queued = false);

internal static class JobRegistrations
{
    /// <summary>
    /// Registers a recurring job: <paramref name="name"/> (kebab-case, stable: it is the job's key in the store and in
    /// the API), a one-line description, and a Quartz cron (seconds first) in <c>Jobs:TimeZone</c>, which
    /// <c>Jobs:Schedules:{name}</c> overrides.
    /// </summary>
    public static IHostApplicationBuilder AddRecurringJob<TJob>(this IHostApplicationBuilder builder, string name, string description, string cron)
        where TJob : class, IScheduledJob
    {
        builder.Services.AddScoped<TJob>();
        builder.Services.AddScoped<QuartzJob<TJob>>();
        builder.Services.AddSingleton(new JobRegistration(name, description, cron, typeof(TJob)));
        return builder;
    }

    /// <summary>
    /// Registers a queued job: background work a request asks for with <see cref="IBackgroundJobs.EnqueueAsync"/>
    /// (it runs soon, on whichever node picks it up, never in the request). Write it as a sweep: each run handles
    /// everything still to do, oldest first, so an enqueue only wakes it and a lost one costs nothing. The
    /// <paramref name="sweepCron"/> schedule (every 10 minutes by default, <c>Jobs:Schedules:{name}</c> overrides it)
    /// runs it anyway, for work whose wake-up was missed.
    /// </summary>
    public static IHostApplicationBuilder AddQueuedJob<TJob>(this IHostApplicationBuilder builder, string name, string description, string sweepCron = "0 0/10 * * * ?")
        where TJob : class, IScheduledJob
    {
        builder.Services.AddScoped<TJob>();
        builder.Services.AddScoped<QuartzJob<TJob>>();
        builder.Services.AddSingleton(new JobRegistration(name, description, sweepCron, typeof(TJob), Queued: true));
        return builder;
    }
}
