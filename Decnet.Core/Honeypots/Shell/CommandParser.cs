using System.Text;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>One simple command of a pipeline with its redirections.</summary>
public sealed class ShellCommand
{
    public List<string> Words { get; } = [];
    public string? StdoutFile { get; set; }
    public bool AppendStdout { get; set; }
    public string? StdinFile { get; set; }
    public bool DiscardStderr { get; set; }
    public bool StderrToStdout { get; set; }
}

/// <summary>A pipeline and how it is joined to the next one (";", "&amp;&amp;", "||").</summary>
public sealed record ShellPipeline(IReadOnlyList<ShellCommand> Commands, string Connector);

/// <summary>
/// A small POSIX-shell parser: quotes, backslash escapes, $VAR / ${VAR} / $? expansion, pipes, lists
/// and the common redirections. Enough for what bots and people type; not a full grammar.
/// </summary>
public static class CommandParser
{
    public static IReadOnlyList<ShellPipeline> Parse(string line, Func<string, string?> variable)
    {
        var pipelines = new List<ShellPipeline>();
        var commands = new List<ShellCommand>();
        var current = new ShellCommand();
        var word = new StringBuilder();
        var inWord = false;
        string? pendingRedirect = null;

        void EndWord()
        {
            if (!inWord)
            {
                return;
            }
            var text = word.ToString();
            word.Clear();
            inWord = false;
            switch (pendingRedirect)
            {
                case ">" or ">>":
                    current.StdoutFile = text;
                    current.AppendStdout = pendingRedirect == ">>";
                    break;
                case "<":
                    current.StdinFile = text;
                    break;
                case "2>":
                    current.DiscardStderr = true;
                    break;
                default:
                    current.Words.Add(text);
                    break;
            }
            pendingRedirect = null;
        }

        void EndCommand()
        {
            EndWord();
            if (current.Words.Count > 0)
            {
                commands.Add(current);
            }
            current = new ShellCommand();
        }

        void EndPipeline(string connector)
        {
            EndCommand();
            if (commands.Count > 0)
            {
                pipelines.Add(new ShellPipeline(commands, connector));
            }
            commands = [];
        }

        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '\'')
            {
                var end = line.IndexOf('\'', i + 1);
                end = end < 0 ? line.Length : end;
                word.Append(line, i + 1, end - i - 1);
                inWord = true;
                i = end + 1;
                continue;
            }
            if (c == '"')
            {
                inWord = true;
                i++;
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$')
                    {
                        word.Append(line[i + 1]);
                        i += 2;
                    }
                    else if (line[i] == '$')
                    {
                        i = Expand(line, i, word, variable);
                    }
                    else
                    {
                        word.Append(line[i++]);
                    }
                }
                i++;
                continue;
            }
            if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[i + 1]);
                inWord = true;
                i += 2;
                continue;
            }
            if (c == '$')
            {
                inWord = true;
                i = Expand(line, i, word, variable);
                continue;
            }
            if (c is ' ' or '\t')
            {
                EndWord();
                i++;
                continue;
            }
            if (c == '#' && !inWord)
            {
                break;
            }
            if (Match(line, i, "2>&1"))
            {
                EndWord();
                current.StderrToStdout = true;
                i += 4;
                continue;
            }
            if (Match(line, i, "2>") && !inWord)
            {
                EndWord();
                pendingRedirect = "2>";
                i += Match(line, i, "2>>") ? 3 : 2;
                continue;
            }
            if (Match(line, i, "&&") || Match(line, i, "||"))
            {
                EndPipeline(line.Substring(i, 2));
                i += 2;
                continue;
            }
            if (c is ';' or '&' or '\n')
            {
                EndPipeline(";");
                i++;
                continue;
            }
            if (c == '|')
            {
                EndCommand();
                i++;
                continue;
            }
            if (c is '>' or '<')
            {
                EndWord();
                pendingRedirect = Match(line, i, ">>") ? ">>" : c.ToString();
                i += pendingRedirect.Length;
                continue;
            }
            word.Append(c);
            inWord = true;
            i++;
        }
        EndPipeline(";");
        return pipelines;
    }

    private static bool Match(string line, int index, string token) => string.CompareOrdinal(line, index, token, 0, token.Length) == 0;

    private static int Expand(string line, int index, StringBuilder word, Func<string, string?> variable)
    {
        var i = index + 1;
        if (i < line.Length && line[i] == '{')
        {
            var end = line.IndexOf('}', i);
            if (end > 0)
            {
                word.Append(variable(line[(i + 1)..end]));
                return end + 1;
            }
        }
        if (i < line.Length && line[i] is '?' or '$' or '#' or '0')
        {
            word.Append(variable(line[i].ToString()));
            return i + 1;
        }
        var start = i;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_'))
        {
            i++;
        }
        if (i == start)
        {
            word.Append('$');
            return i;
        }
        word.Append(variable(line[start..i]));
        return i;
    }
}
