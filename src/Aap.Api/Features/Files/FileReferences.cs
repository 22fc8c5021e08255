using Aap.Api.Platform;

namespace Aap.Api.Features.Files;

/// <summary>Something that still needs a file: <c>("completion", 42)</c> is completion 42, whose proof the file is.</summary>
[FeatureSurface]
internal sealed record FileReference(long FileId, string Kind, long Id)
{
    public override string ToString() => $"{Kind} {Id}";
}

/// <summary>
/// Answers "who still needs these files?" for one feature that points at stored files. Files cannot read the tables
/// of the features that use it; each such feature implements this and registers it, and Files asks every one of
/// them before a file is deleted, purged, or hidden from an admin. The database's foreign keys stay as the backstop.
/// </summary>
[FeatureSurface]
internal interface IFileReferences
{
    /// <summary>The references to any of <paramref name="fileIds"/> (none when nothing needs them).</summary>
    Task<IReadOnlyList<FileReference>> FindAsync(IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken);
}

internal static class FileReferenceSources
{
    /// <summary>What every registered source says still needs any of <paramref name="fileIds"/>.</summary>
    public static async Task<List<FileReference>> FindAllAsync(
        this IEnumerable<IFileReferences> sources, IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken)
    {
        var found = new List<FileReference>();
        foreach (var source in sources)
        {
            found.AddRange(await source.FindAsync(fileIds, cancellationToken));
        }

        return found;
    }
}
