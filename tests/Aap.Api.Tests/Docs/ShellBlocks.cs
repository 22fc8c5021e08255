using System.Text;

namespace Aap.Api.Tests.Docs;

/// <summary>A <c>```sh</c> block of a Markdown page, and the output the page shows for it (a <c>```text</c> block
/// after a line starting with "prints"), if any.</summary>
public sealed record ShellBlock(int Line, string Code, string? Prints);

/// <summary>
/// Reads the shell commands of a Markdown page. A block whose fence follows a line starting with
/// <c>&lt;!-- not run</c> (blank lines between allowed) is left out: it starts the server, runs the tests, deletes
/// data or needs a secret the reader supplies.
/// </summary>
public static class ShellBlocks
{
    public const string NotRunMarker = "<!-- not run";

    public static IReadOnlyList<ShellBlock> Extract(string markdown, string? section = null)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var (from, to) = SectionBounds(lines, section);
        var blocks = new List<ShellBlock>();
        var previous = "";
        for (var i = from; i < to; i++)
        {
            var line = lines[i];
            if (line.Trim() == "```sh")
            {
                var start = i + 1;
                var code = Fenced(lines, ref i);
                var skipped = previous.StartsWith(NotRunMarker, StringComparison.Ordinal);
                var prints = Prints(lines, ref i, to);
                if (!skipped)
                {
                    blocks.Add(new ShellBlock(start, code, prints));
                }

                previous = "";
                continue;
            }

            if (line.Trim().Length > 0)
            {
                previous = line.Trim();
            }
        }

        return blocks;
    }

    private static (int From, int To) SectionBounds(string[] lines, string? section)
    {
        if (section is null)
        {
            return (0, lines.Length);
        }

        var from = Array.FindIndex(lines, l => l.Trim() == $"## {section}");
        if (from < 0)
        {
            throw new InvalidOperationException($"No section '## {section}' in the page.");
        }

        var to = Array.FindIndex(lines, from + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
        return (from + 1, to < 0 ? lines.Length : to);
    }

    /// <summary>The lines up to the closing fence; leaves <paramref name="i"/> on the closing fence.</summary>
    private static string Fenced(string[] lines, ref int i)
    {
        var code = new StringBuilder();
        for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
        {
            code.Append(lines[i]).Append('\n');
        }

        if (i >= lines.Length)
        {
            throw new InvalidOperationException("A code block is not closed.");
        }

        return code.ToString();
    }

    /// <summary>The <c>```text</c> block after a "prints" line right after a block; moves past it when found.</summary>
    private static string? Prints(string[] lines, ref int i, int end)
    {
        var j = NextNonBlank(lines, i + 1, end);
        if (j >= end || !lines[j].StartsWith("prints", StringComparison.Ordinal))
        {
            return null;
        }

        j = NextNonBlank(lines, j + 1, end);
        if (j >= end || lines[j].Trim() != "```text")
        {
            throw new InvalidOperationException($"Line {j + 1}: a \"prints\" line must be followed by a ```text block.");
        }

        var text = Fenced(lines, ref j);
        i = j;
        return text.TrimEnd('\n');
    }

    private static int NextNonBlank(string[] lines, int from, int end)
    {
        while (from < end && lines[from].Trim().Length == 0)
        {
            from++;
        }

        return from;
    }
}
