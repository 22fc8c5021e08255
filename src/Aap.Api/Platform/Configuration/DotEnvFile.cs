namespace Aap.Api.Platform.Configuration;

/// <summary>
/// Reads an optional <c>.env</c> file into the process environment before configuration is built.
/// Variables already set in the environment win, so a deployment can always override the file.
/// Setting real environment variables (rather than adding a configuration source) lets libraries that read the
/// environment directly, such as the AWS SDK, see the same values.
/// </summary>
internal static class DotEnvFile
{
    public static void Load(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        foreach (var (key, value) in Parse(File.ReadLines(path)))
        {
            if (Environment.GetEnvironmentVariable(key) is null)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
        }
    }

    /// <summary>Parses <c>KEY=VALUE</c> lines; blank lines and <c>#</c> comments are skipped, an <c>export </c> prefix and matching quotes are removed.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Parse(IEnumerable<string> lines)
    {
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            yield return new(key, value);
        }
    }
}
