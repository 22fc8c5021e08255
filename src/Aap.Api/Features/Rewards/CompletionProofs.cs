using Aap.Api.Features.Files;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>A completion needs its screenshot for as long as it exists: the proof is what the review looks at.</summary>
internal sealed class CompletionProofs(AppDbContext db) : IFileReferences
{
    public const string Kind = "completion";

    public async Task<IReadOnlyList<FileReference>> FindAsync(IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken) =>
        await db.Set<AppCompletion>().AsNoTracking().Where(c => fileIds.Contains(c.ScreenshotFileId)).OrderBy(c => c.Id)
            .Select(c => new FileReference(c.ScreenshotFileId, Kind, c.Id)).ToListAsync(cancellationToken);
}
