using System.CommandLine;
using Aap.Api.Features.Files;

namespace Aap.Api.Cli;

/// <summary><c>aap files purge</c>: removes the content and rows of deleted files.</summary>
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
        return new Command("files", "Manage stored files.") { purge };
    }
}
