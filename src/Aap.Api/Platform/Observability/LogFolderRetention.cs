using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Serilog.Debugging;
using Serilog.Sinks.File;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// Keeps the log folder within <c>Log:RetainedTotalBytes</c>: each time the file sink opens a file (at start and at
/// every roll) the oldest log files are deleted until the rest, the new file included, fit. The sink's own limits
/// (count, days) apply right after; files that are not AAP's log files are left alone.
/// </summary>
internal sealed partial class LogFolderRetention(long totalBytes) : FileLifecycleHooks
{
    public override Stream OnFileOpened(string path, Stream underlyingStream, Encoding encoding)
    {
        Apply(Path.GetDirectoryName(path)!, Path.GetFileName(path), totalBytes);
        return underlyingStream;
    }

    /// <summary>Deletes the oldest log files in <paramref name="directory"/> beyond <paramref name="totalBytes"/>, never <paramref name="currentFile"/>.</summary>
    public static void Apply(string directory, string currentFile, long totalBytes)
    {
        var newestFirst = new DirectoryInfo(directory).EnumerateFiles("aap-*.json")
            .Select(file => (File: file, Match: LogFileName().Match(file.Name)))
            .Where(f => f.Match.Success)
            .OrderByDescending(f => f.File.Name.Equals(currentFile, StringComparison.OrdinalIgnoreCase))
            .ThenByDescending(f => f.Match.Groups["date"].Value, StringComparer.Ordinal)
            .ThenByDescending(f => f.Match.Groups["sequence"].Success ? int.Parse(f.Match.Groups["sequence"].Value, CultureInfo.InvariantCulture) : 0)
            .Select(f => f.File);
        long kept = 0;
        foreach (var file in newestFirst)
        {
            kept += file.Length;
            if (kept <= totalBytes || file.Name.Equals(currentFile, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            try
            {
                file.Delete();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                SelfLog.WriteLine("Could not delete the old log file {0}: {1}", file.FullName, exception.Message);
            }
        }
    }

    // The names Serilog's daily rolling gives "aap-.json": aap-20260115.json, then aap-20260115_001.json and on.
    [GeneratedRegex(@"^aap-(?<date>\d{8})(?:_(?<sequence>\d{3,}))?\.json$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LogFileName();
}
