using System.CommandLine;
using Aap.Api.Features.Files;

namespace Aap.Api.Cli;

/// <summary><c>aap files purge</c>: removes the content and rows of deleted files; <c>aap files sweep-orphans</c>: objects without a row.</summary>
internal static class FilesCommand
{
    public static Command Create(IServiceProvider services)
    {
        var olderThan = new Option<int>("--older-than-days") { Description = "Only files deleted at least this many days ago (default 0: all).", DefaultValueFactory = _ => 0 };
        olderThan.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--older-than-days must be 0 or more.");
            }
        });
        var purge = new Command("purge", "Remove the stored content and the rows of deleted files.") { olderThan };
        purge.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = services.CreateAsyncScope();
            var purge = await scope.ServiceProvider.GetRequiredService<FileService>()
                .PurgeAsync(TimeSpan.FromDays(parse.GetValue(olderThan)), cancellationToken);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Purged {purge.Purged} deleted file(s); kept {purge.Kept} still in use; {purge.Failed} failed (see the log).");
            // Kept files are expected (a completion's proof); a failure is worth an operator's look.
            return purge.Failed == 0 ? 0 : 1;
        });
        var dryRun = new Option<bool>("--dry-run") { Description = "Count the orphaned objects and list them in the log; remove nothing." };
        var sweep = new Command("sweep-orphans", "Remove stored objects that no file row names, older than Files:OrphanGraceHours.") { dryRun };
        sweep.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = services.CreateAsyncScope();
            var orphans = scope.ServiceProvider.GetRequiredService<OrphanSweep>();
            var result = await orphans.RunAsync(parse.GetValue(dryRun), cancellationToken);
            var done = parse.GetValue(dryRun) ? "dry run: nothing removed" : $"removed {result.Removed}, {result.Failed} failed (see the log)";
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Found {result.Orphans} orphaned object(s) older than {orphans.Grace.TotalHours:0} h among {result.Listed} listed ({result.TooYoung} younger kept); {done}.");
            return result.Failed == 0 ? 0 : 1;
        });
        return new Command("files", "Manage stored files.") { purge, sweep };
    }
}
