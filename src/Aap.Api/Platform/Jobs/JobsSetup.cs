using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Quartz;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// The scheduler (Quartz.NET, ADR 11): a persistent store in the application's database (SQLite, or PostgreSQL
/// clustered), the run history listener, retries, the schema and the schedules brought up to date under the migration
/// lock, and the admin routes. Features add their jobs with <see cref="JobRegistrations.AddRecurringJob{TJob}"/>.
/// </summary>
internal static class JobsSetup
{
    public const string Group = "aap";

    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var jobs = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();

        services.AddScoped<JobRunLog>();
        services.AddScoped<JobProgress>();
        services.AddScoped<JobsService>();
        services.AddSingleton<BackgroundJobs>();
        services.AddSingleton<IBackgroundJobs>(provider => provider.GetRequiredService<BackgroundJobs>());
        services.AddSingleton<JobRunListener>();
        services.AddSingleton<Observability.JobMetrics>();
        services.AddScoped<IMigrationFollowUp, JobStoreProvisioning>();

        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = "aap";
                // One id per process, named in the run history. Quartz 4 takes "AUTO" literally, so it is made here:
                // nodes sharing an id read each other's firings as their own and never see one another fail.
                scheduler.InstanceId = NodeId();
            });
            quartz.UseDefaultThreadPool(4);
            // A job killed by a shutdown is told so through its token; its run is recorded as cancelled and recovered.
            quartz.ConfigureScheduler(scheduler => scheduler.ShutdownJobInterruption = ShutdownJobInterruption.Always);
            quartz.UseDefaultRetryPolicy(jobs.RetryAttempts == 0
                ? RetryPolicy.None
                : RetryPolicy.Exponential(jobs.RetryAttempts, TimeSpan.FromSeconds(jobs.RetryDelaySeconds), 2, TimeSpan.FromSeconds(jobs.RetryDelaySeconds * 16)));
            quartz.AddJobListener(services => services.GetRequiredService<JobRunListener>(), [GroupMatcher<JobKey>.GroupEquals(Group)]);
            quartz.UsePersistentStore(store =>
            {
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();
                store.ConfigureStore(options =>
                {
                    options.MisfireThreshold = TimeSpan.FromSeconds(jobs.MisfireThresholdSeconds);
                    // A run cut short by this node's shutdown is handed back to the store and run again, by another
                    // node or by this one when it starts again, as a run on a node that died is.
                    options.RecoverFiringsCancelledByShutdown = true;
                    // A call that failed for want of the database is tried again this often (Quartz's default is 15 s):
                    // the scheduler is back at work, and can stop, within seconds of the database.
                    options.DbRetryInterval = TimeSpan.FromSeconds(2);
                    // Its misfire handler and cluster manager, its only threads of their own, must not keep the process
                    // alive after a stop that gave up on the scheduler (SchedulerHostedService).
                    options.UseBackgroundThreads = true;
                });
                var database = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
                if (database.ProviderKind == DatabaseProvider.Postgres)
                {
                    store.UsePostgres(builder.Configuration.GetConnectionString("Default") ?? "");
                    store.UseClustering(cluster =>
                    {
                        cluster.CheckinInterval = TimeSpan.FromSeconds(jobs.Cluster.CheckinIntervalSeconds);
                        cluster.CheckinMisfireThreshold = TimeSpan.FromSeconds(jobs.Cluster.CheckinMisfireThresholdSeconds);
                    });
                }
                else
                {
                    store.UseSqlite(SqliteConnectionString(builder.Configuration));
                }
            });
        });

        if (jobs.Enabled)
        {
            // The scheduler starts in the background once the application has started (Quartz's default): started
            // within the host's start, it would keep a node whose start failed (its port taken) from ever exiting.
            // Quartz's hosted service, behind one whose stop is bounded (SchedulerHostedService).
            services.ConfigureAll<QuartzHostedServiceOptions>(hosted => hosted.WaitForJobsToComplete = true);
            services.AddSingleton<QuartzHostedService>();
            services.AddHostedService<SchedulerHostedService>();
        }

        // After the scheduler's: hosted services stop in the reverse order, so wake-ups still wanted are stored first.
        services.AddHostedService(provider => provider.GetRequiredService<BackgroundJobs>());
        builder.Services.AddHealthChecks().AddCheck<SchedulerHealthCheck>("scheduler", tags: [DatabaseHealthCheck.ReadyTag]);
        return builder;
    }

    /// <summary>Quartz's own connections to the SQLite file, with a busy timeout so that the app's writes and its own wait their turn (quartznet#2323).</summary>
    private static string SqliteConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString("Default");
        var sqlite = new SqliteConnectionStringBuilder(configured is { Length: > 0 } ? configured : "")
        {
            DefaultTimeout = 30,
            Pooling = true,
        };
        if (string.IsNullOrEmpty(sqlite.DataSource))
        {
            sqlite.DataSource = Path.Combine(Configuration.DataDirectory.From(configuration).Path, "aap.db");
        }

        return sqlite.ToString();
    }

    /// <summary>The host's name, the process id and a random part (several hosts may share a process, as in tests).</summary>
    private static string NodeId() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    public static JobKey KeyOf(string name) => new(name, Group);

    public static TriggerKey TriggerOf(string name) => new(name, Group);
}
