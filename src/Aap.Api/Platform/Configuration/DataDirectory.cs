namespace Aap.Api.Platform.Configuration;

/// <summary>
/// The folder that everything the embedded mode writes lives in: the SQLite database, local files, logs and keys.
/// Set by the <c>AAP_DATA_DIR</c> environment variable (or configuration key); defaults to <c>./data</c>.
/// </summary>
internal sealed class DataDirectory
{
    public const string Key = "AAP_DATA_DIR";

    public DataDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    public static DataDirectory From(IConfiguration configuration)
    {
        var configured = configuration[Key];
        return new DataDirectory(string.IsNullOrWhiteSpace(configured) ? "data" : configured);
    }

    /// <summary>Returns a sub-folder, creating it when missing.</summary>
    public string Folder(string name)
    {
        var folder = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
