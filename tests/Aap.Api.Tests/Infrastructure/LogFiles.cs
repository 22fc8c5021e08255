namespace Aap.Api.Tests.Infrastructure;

internal static class LogFiles
{
    /// <summary>Every line of the JSON log files the application wrote under its data folder.</summary>
    public static IReadOnlyList<string> ReadAll(string dataDirectory)
    {
        var folder = Path.Combine(dataDirectory, "logs");
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.json").SelectMany(file =>
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }).ToList()
            : [];
    }
}
