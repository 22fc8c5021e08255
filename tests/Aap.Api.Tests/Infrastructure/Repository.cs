namespace Aap.Api.Tests.Infrastructure;

/// <summary>The repository the tests were built from: its files that the tests read as a user would.</summary>
internal static class Repository
{
    /// <summary>The repository's root: the first folder above the test output that holds <c>Aap.slnx</c>.</summary>
    public static string Root()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Aap.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"The repository root (Aap.slnx) is not above {AppContext.BaseDirectory}.");
    }

    /// <summary>A file of the repository, by its path from the root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root(), .. parts]);
}
