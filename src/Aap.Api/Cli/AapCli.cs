using System.CommandLine;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Platform.Persistence.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Cli;

/// <summary>
/// The command line of the service: <c>aap migrate</c>, <c>aap seed</c>, <c>aap db ...</c>. Commands run with the
/// same configuration and services as the web host, which is built but not started.
/// </summary>
internal static class AapCli
{
    private static readonly string[] HelpOrVersion = ["--help", "-h", "-?", "--version"];

    /// <summary>
    /// A first argument that names a command, or help or version anywhere, runs the command line without serving;
    /// host options alone (<c>--urls</c>, <c>--environment</c>) start the web host. Host options before the command
    /// (<c>aap --environment Production migrate</c>) are the host's, already read into its configuration.
    /// </summary>
    public static bool IsCommand(string[] args) =>
        args.Any(a => HelpOrVersion.Contains(a)) || WithoutHostOptions(args).Length > 0;

    /// <summary>
    /// The arguments after the host options that lead them: <c>--key value</c> and <c>--key=value</c> pairs
    /// (the configuration command-line syntax), stopping at the first word, help or version.
    /// </summary>
    internal static string[] WithoutHostOptions(string[] args)
    {
        var i = 0;
        while (i < args.Length && args[i].StartsWith('-') && !HelpOrVersion.Contains(args[i]))
        {
            i += args[i].Contains('=', StringComparison.Ordinal) || i + 1 == args.Length ? 1 : 2;
        }

        return args[i..];
    }

    public static async Task<int> RunAsync(IHost host, string[] args)
    {
        var root = new RootCommand("AAP (Admin and User Portal). Without a command, serves the API.")
        {
            MigrateCommand(host),
            SeedCommand(host),
            DbCommand(host),
            ToolkitCommand.Create(),
            UsersCommand.Create(host.Services),
            FilesCommand.Create(host.Services),
            JobsCommand.Create(host.Services),
            BackupCommand.Backup(host.Services),
            BackupCommand.Restore(host.Services),
            HealthCommand.Create(),
            ImportCommand.Create(host.Services),
        };
        try
        {
            return await root.Parse(WithoutHostOptions(args)).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"aap: configuration error: {string.Join(" ", ex.Failures)}");
            return 2;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"aap: {ex.Message}");
            return 1;
        }
    }

    private static Command MigrateCommand(IHost host)
    {
        var status = new Option<bool>("--status") { Description = "Only list applied and pending migrations." };
        var command = new Command("migrate", "Apply pending database migrations.") { status };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var migrator = scope.ServiceProvider.GetRequiredService<DatabaseMigrator>();
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(status))
            {
                var current = await migrator.GetStatusAsync(cancellationToken);
                foreach (var applied in current.Applied)
                {
                    await output.WriteLineAsync($"applied  {applied.Version} {applied.Name} at {applied.AppliedAt:u}");
                }

                foreach (var pending in current.Pending)
                {
                    await output.WriteLineAsync($"pending  {pending.Version} {pending.Name}");
                }

                return 0;
            }

            var done = await migrator.MigrateAsync(cancellationToken);
            await output.WriteLineAsync(done.Count == 0
                ? "Database is up to date."
                : $"Applied {done.Count} migration(s): {string.Join(", ", done.Select(m => $"{m.Version}_{m.Name}"))}.");
            return 0;
        });
        return command;
    }

    private static Command SeedCommand(IHost host)
    {
        var profile = new Option<string>("--profile") { Description = "demo or test.", Required = true };
        profile.AcceptOnlyFromAmong([.. SeedProfiles.All]);
        var command = new Command("seed", "Insert the sample data of a profile; running it again changes nothing.") { profile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            var inserted = await scope.ServiceProvider.GetRequiredService<Seeder>().SeedAsync(parse.GetRequiredValue(profile), cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"Seeded profile {parse.GetValue(profile)}: {inserted} row(s) inserted.");
            return 0;
        });
        return command;
    }

    private static Command DbCommand(IHost host)
    {
        var script = new Command("script", "Print the schema EF Core expects for the configured provider: the reference for a new migration script.");
        script.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await parse.InvocationConfiguration.Output.WriteLineAsync(db.Database.GenerateCreateScript());
            return 0;
        });
        return new Command("db", "Database tools.") { script };
    }
}
