using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>Who is logged in and where: everything a shell session needs from its transport.</summary>
public sealed class ShellContext
{
    public required string Hostname { get; init; }
    public required string User { get; init; }
    public required DistroPersona Distro { get; init; }
    public required ShellFileSystem FileSystem { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public string RemoteIp { get; init; } = "127.0.0.1";
    public string Tty { get; init; } = "pts/0";

    /// <summary>Event sink: type and fields (the transport stamps src_ip/src_port).</summary>
    public required Action<string, (string Key, string? Value)[]> Emit { get; init; }
}

/// <summary>The result of one command line: stdout+stderr as LF text, exit status, and whether the shell should end.</summary>
public readonly record struct ShellResult(string Output, int ExitCode, bool Exit);

public static class ShellCommandNames
{
    public static readonly IReadOnlyList<string> Binaries =
    [
        "ls", "cd", "pwd", "cat", "echo", "uname", "id", "whoami", "w", "who", "ps", "uptime", "free", "df", "ifconfig", "ip",
        "history", "hostname", "wget", "curl", "chmod", "rm", "mkdir", "touch", "cp", "mv", "export", "which", "nproc", "lscpu",
        "sudo", "exit", "logout", "head", "tail", "grep", "wc", "env", "clear", "true", "false", "sleep", "date", "unset", "bash", "sh",
    ];
}

/// <summary>
/// Interprets command lines against the persona filesystem. Nothing is ever executed on the host;
/// commands produce plausible output and every line is reported as a <c>command</c> event.
/// </summary>
public sealed partial class CommandInterpreter
{
    private const int MaxHistory = 500;
    // 500 lines of the longest accepted line would be megabytes per session: the attacker picks the length.
    private const int MaxHistoryChars = 16 * 1024;
    private const int MaxOutput = 256 * 1024;

    private readonly ShellContext _context;
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);
    private readonly List<string> _history = [];
    private int _historyChars;
    private int _lastExit;

    public CommandInterpreter(ShellContext context)
    {
        _context = context;
        Home = context.User == "root" ? "/root" : "/home/" + context.User;
        Cwd = context.FileSystem.IsDirectory(Home) ? Home : "/";
        _env["HOME"] = Home;
        _env["USER"] = context.User;
        _env["LOGNAME"] = context.User;
        _env["SHELL"] = context.Distro.Shell;
        _env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        _env["PWD"] = Cwd;
        _env["HOSTNAME"] = context.Hostname;
        _env["LANG"] = "C.UTF-8";
    }

    public string Cwd { get; private set; }
    public string Home { get; }
    public string User => _context.User;
    public IReadOnlyList<string> History => _history;

    public string Prompt
    {
        get
        {
            var shown = Cwd == Home ? "~" : Cwd.StartsWith(Home + "/", StringComparison.Ordinal) ? "~" + Cwd[Home.Length..] : Cwd;
            return $"{_context.User}@{_context.Hostname}:{shown}{(_context.User == "root" ? "#" : "$")} ";
        }
    }

    public void SetEnvironment(string name, string value)
    {
        if (_env.Count < 256 && name.Length < 256 && value.Length < 4096)
        {
            _env[name] = value;
        }
    }

    public ShellResult Execute(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return new ShellResult("", _lastExit, false);
        }
        _context.Emit("command", [("cmd", trimmed), ("cwd", Cwd), ("user", _context.User)]);
        _history.Add(trimmed);
        _historyChars += trimmed.Length;
        while (_history.Count > 1 && (_history.Count > MaxHistory || _historyChars > MaxHistoryChars))
        {
            _historyChars -= _history[0].Length;
            _history.RemoveAt(0);
        }

        var output = new StringBuilder();
        var exit = false;
        string? previousConnector = null;
        // Variables become markers at parse time and are expanded just before each command runs,
        // so "false; echo $?" and "export A=1 && echo $A" see the values of earlier commands.
        foreach (var pipeline in CommandParser.Parse(trimmed, name => "\u0001" + name + "\u0002"))
        {
            var skip = (previousConnector == "&&" && _lastExit != 0) || (previousConnector == "||" && _lastExit == 0);
            previousConnector = pipeline.Connector;
            if (skip)
            {
                continue;
            }
            var stdin = "";
            for (var i = 0; i < pipeline.Commands.Count; i++)
            {
                var command = pipeline.Commands[i];
                var result = Run(command, stdin, ref exit);
                _lastExit = result.ExitCode;
                var stdout = result.Stdout;
                var stderr = command.DiscardStderr ? "" : result.Stderr;
                if (command.StderrToStdout)
                {
                    stdout += stderr;
                    stderr = "";
                }
                output.Append(stderr);
                if (command.StdoutFile is not null)
                {
                    RedirectTo(command.StdoutFile, stdout, command.AppendStdout, output);
                    stdout = "";
                }
                if (i == pipeline.Commands.Count - 1)
                {
                    output.Append(stdout);
                }
                stdin = stdout;
                if (exit || output.Length > MaxOutput)
                {
                    break;
                }
            }
            if (exit || output.Length > MaxOutput)
            {
                break;
            }
        }
        var text = output.Length > MaxOutput ? output.ToString(0, MaxOutput) : output.ToString();
        return new ShellResult(text, _lastExit, exit);
    }

    private void RedirectTo(string file, string content, bool append, StringBuilder output)
    {
        if (file == "/dev/null")
        {
            return;
        }
        var path = Resolve(file);
        if (!_context.FileSystem.Write(path, Encoding.UTF8.GetBytes(content), append, _context.User))
        {
            output.Append(_context.FileSystem.IsDirectory(path) ? $"bash: {file}: Is a directory\n" : $"bash: {file}: No such file or directory\n");
        }
    }

    private string? Variable(string name) => name switch
    {
        "?" => _lastExit.ToString(CultureInfo.InvariantCulture),
        "$" => "2718",
        "#" => "0",
        "0" => "-bash",
        _ => _env.GetValueOrDefault(name, ""),
    };

    private string Resolve(string path) => ShellFileSystem.Normalize(Cwd, path, Home);

    private readonly record struct Outcome(string Stdout, string Stderr, int ExitCode)
    {
        public static Outcome Ok(string stdout = "") => new(stdout, "", 0);
        public static Outcome Fail(string stderr, int code = 1) => new("", stderr, code);
    }

    private string ExpandMarkers(string text) =>
        text.Contains('\u0001', StringComparison.Ordinal) ? VariableMarkerRegex().Replace(text, m => Variable(m.Groups[1].Value) ?? "") : text;

    private Outcome Run(ShellCommand command, string stdin, ref bool exit)
    {
        for (var i = 0; i < command.Words.Count; i++)
        {
            command.Words[i] = ExpandMarkers(command.Words[i]);
        }
        command.StdoutFile = command.StdoutFile is null ? null : ExpandMarkers(command.StdoutFile);
        command.StdinFile = command.StdinFile is null ? null : ExpandMarkers(command.StdinFile);
        var words = command.Words;
        if (command.StdinFile is not null)
        {
            var node = _context.FileSystem.Get(Resolve(command.StdinFile));
            if (node is null || node.IsDirectory)
            {
                return Outcome.Fail($"bash: {command.StdinFile}: No such file or directory\n");
            }
            stdin = Encoding.UTF8.GetString(node.Content);
        }
        // VAR=value prefixes and bare assignments.
        while (words.Count > 0 && AssignmentRegex().IsMatch(words[0]))
        {
            var eq = words[0].IndexOf('=', StringComparison.Ordinal);
            SetEnvironment(words[0][..eq], words[0][(eq + 1)..]);
            words.RemoveAt(0);
        }
        if (words.Count == 0)
        {
            return Outcome.Ok();
        }
        var name = words[0];
        var slash = name.LastIndexOf('/');
        if (slash >= 0 && name.Length > slash + 1 && _context.FileSystem.Get(Resolve(name)) is { IsDirectory: false })
        {
            name = name[(slash + 1)..];
        }
        var args = words.Skip(1).ToList();
        switch (name)
        {
            case "exit" or "logout":
                exit = true;
                return new Outcome("", "", args.Count > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var code) ? code & 0xff : 0);
            case "sudo":
                var rest = args.SkipWhile(a => a.StartsWith('-')).ToList();
                if (rest.Count == 0)
                {
                    return Outcome.Fail("usage: sudo -h | -K | -k | -V\n");
                }
                var inner = new ShellCommand();
                inner.Words.AddRange(rest);
                return Run(inner, stdin, ref exit);
            case "true" or ":" or "clear" or "sleep" or "unset" or "bash" or "sh" or "set":
                return Outcome.Ok(name == "clear" ? "\u001b[H\u001b[2J" : "");
            case "false":
                return new Outcome("", "", 1);
            case "cd":
                return ChangeDirectory(args);
            case "pwd":
                return Outcome.Ok(Cwd + "\n");
            case "echo":
                return Echo(args);
            case "ls" or "dir" or "ll":
                return List(name == "ll" ? ["-l", .. args] : args);
            case "cat":
                return Cat(args, stdin);
            case "head" or "tail":
                return HeadTail(name == "head", args, stdin);
            case "grep" or "egrep":
                return Grep(args, stdin);
            case "wc":
                return WordCount(args, stdin);
            case "uname":
                return Uname(args);
            case "id":
                return Outcome.Ok(_context.User == "root" ? "uid=0(root) gid=0(root) groups=0(root)\n" : $"uid=1000({_context.User}) gid=1000({_context.User}) groups=1000({_context.User}),27(sudo)\n");
            case "whoami":
                return Outcome.Ok(_context.User + "\n");
            case "hostname":
                return Outcome.Ok(_context.Hostname + "\n");
            case "w":
                return Outcome.Ok($" {Now:HH:mm:ss} {PersonaClock.Uptime(Now - Boot)},  1 user,  load average: 0.08, 0.03, 0.01\nUSER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n{_context.User,-8} {_context.Tty,-8} {_context.RemoteIp,-16} {Now:HH:mm}    0.00s  0.02s  0.00s w\n");
            case "who":
                return Outcome.Ok($"{_context.User,-8} {_context.Tty,-12} {Now:yyyy-MM-dd HH:mm} ({_context.RemoteIp})\n");
            case "uptime":
                return Outcome.Ok($" {Now:HH:mm:ss} {PersonaClock.Uptime(Now - Boot)},  1 user,  load average: 0.08, 0.03, 0.01\n");
            case "ps":
                return Outcome.Ok(ProcessList(args));
            case "free":
                return Outcome.Ok(args.Contains("-h")
                    ? "               total        used        free      shared  buff/cache   available\nMem:           3.8Gi       1.1Gi       500Mi       1.0Mi       2.2Gi       2.7Gi\nSwap:          1.0Gi          0B       1.0Gi\n"
                    : "               total        used        free      shared  buff/cache   available\nMem:         4028152     1151612      512344        1024     2235552     2876540\nSwap:        1048572           0     1048572\n");
            case "df":
                return Outcome.Ok(args.Contains("-h")
                    ? "Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda1        40G  9.2G   29G  25% /\ntmpfs           2.0G     0  2.0G   0% /dev/shm\n/dev/sda15      124M   12M  113M  10% /boot/efi\n"
                    : "Filesystem     1K-blocks    Used Available Use% Mounted on\n/dev/sda1       41152736 9637120  29402080  25% /\ntmpfs            2014076       0   2014076   0% /dev/shm\n/dev/sda15        126678   11840    114838  10% /boot/efi\n");
            case "ifconfig":
                return Outcome.Ok("eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n        inet 10.0.1.15  netmask 255.255.255.0  broadcast 10.0.1.255\n        ether 02:42:0a:00:01:0f  txqueuelen 0  (Ethernet)\n        RX packets 1849302  bytes 1120488311 (1.0 GiB)\n        TX packets 1102933  bytes 204881220 (195.3 MiB)\n\nlo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 127.0.0.1  netmask 255.0.0.0\n        loop  txqueuelen 1000  (Local Loopback)\n\n");
            case "ip":
                return args.FirstOrDefault() is "r" or "route"
                    ? Outcome.Ok("default via 10.0.1.1 dev eth0\n10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.15\n")
                    : Outcome.Ok("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default\n    link/ether 02:42:0a:00:01:0f brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    inet 10.0.1.15/24 brd 10.0.1.255 scope global eth0\n       valid_lft forever preferred_lft forever\n");
            case "history":
                return Outcome.Ok(string.Concat(_history.Select((h, i) => $"{i + 1,5}  {h}\n")));
            case "wget" or "curl":
                return Download(name, args);
            case "chmod":
                return args.Count < 2 ? Outcome.Fail("chmod: missing operand\n") : ForEachPath(name, args.Skip(1), p => _context.FileSystem.Get(p) is not null);
            case "rm":
                var recursive = args.Any(a => a.StartsWith('-') && (a.Contains('r', StringComparison.Ordinal) || a.Contains('R', StringComparison.Ordinal)));
                var force = args.Any(a => a.StartsWith('-') && a.Contains('f', StringComparison.Ordinal));
                var removal = ForEachPath(name, args.Where(a => !a.StartsWith('-')), p => _context.FileSystem.Remove(p, recursive));
                return force ? Outcome.Ok() : removal;
            case "mkdir":
                return ForEachPath(name, args.Where(a => !a.StartsWith('-')), p => _context.FileSystem.CreateDirectory(p, _context.User) || (args.Contains("-p") && _context.FileSystem.IsDirectory(p)));
            case "touch":
                return ForEachPath(name, args.Where(a => !a.StartsWith('-')), p => _context.FileSystem.Get(p) is not null || _context.FileSystem.Write(p, [], false, _context.User));
            case "cp" or "mv":
                return CopyMove(name, args.Where(a => !a.StartsWith('-')).ToList());
            case "export":
                foreach (var assignment in args.Where(a => a.Contains('=', StringComparison.Ordinal)))
                {
                    var eq = assignment.IndexOf('=', StringComparison.Ordinal);
                    SetEnvironment(assignment[..eq], assignment[(eq + 1)..]);
                }
                return Outcome.Ok(args.Count == 0 ? string.Concat(_env.Select(kv => $"declare -x {kv.Key}=\"{kv.Value}\"\n")) : "");
            case "env" or "printenv":
                return Outcome.Ok(string.Concat(_env.Select(kv => $"{kv.Key}={kv.Value}\n")));
            case "which":
                var found = args.Where(a => ShellCommandNames.Binaries.Contains(a)).Select(a => "/usr/bin/" + a + "\n").ToList();
                return new Outcome(string.Concat(found), "", found.Count == args.Count && args.Count > 0 ? 0 : 1);
            case "nproc":
                return Outcome.Ok(CpuCount().ToString(CultureInfo.InvariantCulture) + "\n");
            case "lscpu":
                return Outcome.Ok($"Architecture:            x86_64\n  CPU op-mode(s):        32-bit, 64-bit\n  Byte Order:            Little Endian\nCPU(s):                  {CpuCount()}\nVendor ID:               GenuineIntel\n  Model name:            Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz\n    Thread(s) per core:  1\nHypervisor vendor:       KVM\nVirtualization type:     full\n");
            case "date":
                return Outcome.Ok(Now.ToString("ddd MMM d HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture) + "\n");
            default:
                return new Outcome("", $"bash: {words[0]}: command not found\n", 127);
        }
    }

    private DateTimeOffset Now => _context.Time.GetUtcNow();

    /// <summary>When this decky "booted": uptime, ps and the persona's file dates all follow it.</summary>
    private DateTimeOffset Boot => PersonaClock.BootTime(_context.Hostname, Now);

    private int CpuCount()
    {
        var info = _context.FileSystem.Get("/proc/cpuinfo");
        return info is null ? 2 : Math.Max(1, Encoding.UTF8.GetString(info.Content).Split("processor\t").Length - 1);
    }

    private Outcome ChangeDirectory(List<string> args)
    {
        var target = args.Count == 0 || args[0] == "~" ? Home : args[0] == "-" ? _env.GetValueOrDefault("OLDPWD", Cwd) : Resolve(args[0]);
        var node = _context.FileSystem.Get(target);
        var shown = args.Count > 0 ? args[0] : target;
        if (node is null)
        {
            return Outcome.Fail($"bash: cd: {shown}: No such file or directory\n");
        }
        if (!node.IsDirectory)
        {
            return Outcome.Fail($"bash: cd: {shown}: Not a directory\n");
        }
        _env["OLDPWD"] = Cwd;
        Cwd = target;
        _env["PWD"] = Cwd;
        return Outcome.Ok();
    }

    private static Outcome Echo(List<string> args)
    {
        var newline = true;
        var escapes = false;
        while (args.Count > 0 && args[0] is "-n" or "-e" or "-ne" or "-en")
        {
            newline &= !args[0].Contains('n', StringComparison.Ordinal);
            escapes |= args[0].Contains('e', StringComparison.Ordinal);
            args.RemoveAt(0);
        }
        var text = string.Join(' ', args);
        if (escapes)
        {
            text = text.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);
        }
        return Outcome.Ok(newline ? text + "\n" : text);
    }

    private Outcome List(List<string> args)
    {
        var flags = string.Concat(args.Where(a => a.StartsWith('-')).Select(a => a[1..]));
        var all = flags.Contains('a', StringComparison.Ordinal);
        var longFormat = flags.Contains('l', StringComparison.Ordinal);
        var paths = args.Where(a => !a.StartsWith('-')).ToList();
        if (paths.Count == 0)
        {
            paths.Add(".");
        }
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var path in paths)
        {
            var full = Resolve(path);
            var node = _context.FileSystem.Get(full);
            if (node is null)
            {
                stderr.Append($"ls: cannot access '{path}': No such file or directory\n");
                continue;
            }
            if (paths.Count > 1 && node.IsDirectory)
            {
                stdout.Append(path).Append(":\n");
            }
            var entries = node.IsDirectory
                ? _context.FileSystem.List(full).Where(n => all || !n.StartsWith('.')).Select(n => (Name: n, Node: _context.FileSystem.Get(full.TrimEnd('/') + "/" + n)!)).ToList()
                : [(path, node)];
            if (node.IsDirectory && all)
            {
                entries.Insert(0, ("..", _context.FileSystem.Get(ShellFileSystem.Parent(full))!));
                entries.Insert(0, (".", node));
            }
            if (longFormat)
            {
                if (node.IsDirectory)
                {
                    stdout.Append("total ").Append(entries.Count * 4).Append('\n');
                }
                foreach (var (name, entry) in entries)
                {
                    var size = entry.IsDirectory ? 4096 : entry.Content.LongLength;
                    stdout.Append(CultureInfo.InvariantCulture, $"{entry.Mode} {(entry.IsDirectory ? 2 : 1)} {entry.Owner,-8} {entry.Owner,-8} {size,6} {PersonaClock.LsTime(entry.Modified, Now)} {name}\n");
                }
            }
            else if (entries.Count > 0)
            {
                stdout.Append(string.Join("  ", entries.Select(e => e.Name))).Append('\n');
            }
        }
        return new Outcome(stdout.ToString(), stderr.ToString(), stderr.Length > 0 ? 2 : 0);
    }

    private Outcome Cat(List<string> args, string stdin)
    {
        var files = args.Where(a => !a.StartsWith('-') || a == "-").ToList();
        if (files.Count == 0)
        {
            return Outcome.Ok(stdin);
        }
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var file in files)
        {
            if (file == "-")
            {
                stdout.Append(stdin);
                continue;
            }
            var node = _context.FileSystem.Get(Resolve(file));
            if (node is null)
            {
                stderr.Append($"cat: {file}: No such file or directory\n");
            }
            else if (node.IsDirectory)
            {
                stderr.Append($"cat: {file}: Is a directory\n");
            }
            else
            {
                stdout.Append(Encoding.UTF8.GetString(node.Content));
            }
        }
        return new Outcome(stdout.ToString(), stderr.ToString(), stderr.Length > 0 ? 1 : 0);
    }

    private string? ReadInput(List<string> files, string stdin, string tool, StringBuilder stderr)
    {
        if (files.Count == 0)
        {
            return stdin;
        }
        var text = new StringBuilder();
        foreach (var file in files)
        {
            var node = _context.FileSystem.Get(Resolve(file));
            if (node is null || node.IsDirectory)
            {
                stderr.Append($"{tool}: {file}: {(node is null ? "No such file or directory" : "Is a directory")}\n");
                continue;
            }
            text.Append(Encoding.UTF8.GetString(node.Content));
        }
        return text.ToString();
    }

    private static List<string> Lines(string text)
    {
        var lines = text.Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        return lines;
    }

    private Outcome HeadTail(bool head, List<string> args, string stdin)
    {
        var count = 10;
        var files = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "-n" && i + 1 < args.Count && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n))
            {
                count = n;
                i++;
            }
            else if (args[i].Length > 1 && args[i][0] == '-' && int.TryParse(args[i][1..], CultureInfo.InvariantCulture, out var m))
            {
                count = m;
            }
            else if (!args[i].StartsWith('-'))
            {
                files.Add(args[i]);
            }
        }
        var stderr = new StringBuilder();
        var lines = Lines(ReadInput(files, stdin, head ? "head" : "tail", stderr) ?? "");
        var selected = head ? lines.Take(Math.Max(0, count)) : lines.Skip(Math.Max(0, lines.Count - count));
        return new Outcome(string.Concat(selected.Select(l => l + "\n")), stderr.ToString(), stderr.Length > 0 ? 1 : 0);
    }

    private Outcome Grep(List<string> args, string stdin)
    {
        var flags = string.Concat(args.Where(a => a.StartsWith('-') && a.Length > 1).Select(a => a[1..]));
        var rest = args.Where(a => !a.StartsWith('-') || a.Length == 1).ToList();
        if (rest.Count == 0)
        {
            return Outcome.Fail("Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2);
        }
        var comparison = flags.Contains('i', StringComparison.Ordinal) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var invert = flags.Contains('v', StringComparison.Ordinal);
        var stderr = new StringBuilder();
        var lines = Lines(ReadInput(rest.Skip(1).ToList(), stdin, "grep", stderr) ?? "");
        var matches = lines.Where(l => l.Contains(rest[0], comparison) != invert).ToList();
        var stdout = flags.Contains('c', StringComparison.Ordinal) ? matches.Count + "\n" : string.Concat(matches.Select(l => l + "\n"));
        return new Outcome(stdout, stderr.ToString(), stderr.Length > 0 ? 2 : matches.Count > 0 ? 0 : 1);
    }

    private Outcome WordCount(List<string> args, string stdin)
    {
        var flags = string.Concat(args.Where(a => a.StartsWith('-')).Select(a => a[1..]));
        var stderr = new StringBuilder();
        var text = ReadInput(args.Where(a => !a.StartsWith('-')).ToList(), stdin, "wc", stderr) ?? "";
        var lines = text.Count(c => c == '\n');
        var words = text.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        var bytes = Encoding.UTF8.GetByteCount(text);
        var result = flags switch
        {
            "l" => $"{lines}\n",
            "w" => $"{words}\n",
            "c" => $"{bytes}\n",
            _ => $"{lines,7} {words,7} {bytes,7}\n",
        };
        return new Outcome(result, stderr.ToString(), stderr.Length > 0 ? 1 : 0);
    }

    private Outcome Uname(List<string> args)
    {
        var kernel = _context.Distro.Kernel;
        var flags = string.Concat(args.Select(a => a.TrimStart('-')));
        if (flags.Contains('a', StringComparison.Ordinal))
        {
            return Outcome.Ok($"Linux {_context.Hostname} {kernel} {_context.Distro.KernelBuild} x86_64 GNU/Linux\n");
        }
        var parts = new List<string>();
        foreach (var flag in flags.Length == 0 ? "s" : flags)
        {
            parts.Add(flag switch
            {
                'n' => _context.Hostname,
                'r' => kernel,
                'm' or 'p' or 'i' => "x86_64",
                'o' => "GNU/Linux",
                'v' => _context.Distro.KernelBuild,
                _ => "Linux",
            });
        }
        return Outcome.Ok(string.Join(' ', parts) + "\n");
    }

    private string ProcessList(List<string> args)
    {
        if (args.Count == 0)
        {
            return "    PID TTY          TIME CMD\n   2718 " + _context.Tty + "    00:00:00 bash\n   2790 " + _context.Tty + "    00:00:00 ps\n";
        }
        // Services started with the machine; this session's processes just now.
        var boot = PersonaClock.PsStart(Boot.AddSeconds(2), Now);
        var session = PersonaClock.PsStart(Now, Now);
        return "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"
            + $"root           1  0.0  0.2 167740 11780 ?        Ss   {boot,-5}   0:21 /sbin/init\n"
            + $"root         412  0.0  0.1  49320 14052 ?        Ss   {boot,-5}   0:09 /lib/systemd/systemd-journald\n"
            + $"root         601  0.0  0.1  15432  9016 ?        Ss   {boot,-5}   0:00 sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\n"
            + $"root         644  0.0  0.0   6608  2628 ?        Ss   {boot,-5}   0:02 /usr/sbin/cron -f\n"
            + $"mysql        702  0.2  9.8 2410352 396804 ?      Ssl  {boot,-5}  61:13 /usr/sbin/mysqld\n"
            + $"www-data     811  0.0  0.3 202480 13212 ?        S    {boot,-5}   0:00 nginx: worker process\n"
            + $"root        2701  0.0  0.2  17980 10928 ?        Ss   {session,-5}   0:00 sshd: {_context.User}@{_context.Tty}\n"
            + $"{_context.User,-8}    2718  0.0  0.1   8224  5112 {_context.Tty,-8} Ss   {session,-5}   0:00 -bash\n"
            + $"{_context.User,-8}    2790  0.0  0.0  10068  3232 {_context.Tty,-8} R+   {session,-5}   0:00 ps {string.Join(' ', args)}\n";
    }

    private Outcome Download(string tool, List<string> args)
    {
        var urls = args.Where(a => !a.StartsWith('-') && a.Length <= 2048 && (a.Contains("://", StringComparison.Ordinal) || UrlLikeRegex().IsMatch(a))).Take(8).ToList();
        if (urls.Count == 0)
        {
            return tool == "curl"
                ? Outcome.Fail("curl: try 'curl --help' or 'curl --manual' for more information\n", 2)
                : Outcome.Fail("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n", 1);
        }
        var stderr = new StringBuilder();
        foreach (var url in urls)
        {
            _context.Emit("download_attempt", [("url", url), ("tool", tool), ("cwd", Cwd), ("user", _context.User)]);
            var host = HostRegex().Match(url).Groups["host"].Value;
            stderr.Append(tool == "curl"
                ? $"curl: (6) Could not resolve host: {host}\n"
                : $"--{Now:yyyy-MM-dd HH:mm:ss}--  {url}\nResolving {host} ({host})... failed: Temporary failure in name resolution.\nwget: unable to resolve host address '{host}'\n");
        }
        return new Outcome("", stderr.ToString(), tool == "curl" ? 6 : 4);
    }

    private Outcome ForEachPath(string tool, IEnumerable<string> paths, Func<string, bool> action)
    {
        var stderr = new StringBuilder();
        var any = false;
        foreach (var path in paths)
        {
            any = true;
            if (!action(Resolve(path)))
            {
                stderr.Append(tool switch
                {
                    "mkdir" => $"mkdir: cannot create directory '{path}': File exists\n",
                    "rm" => $"rm: cannot remove '{path}': No such file or directory\n",
                    _ => $"{tool}: cannot touch '{path}': No such file or directory\n",
                });
            }
        }
        if (!any)
        {
            return Outcome.Fail($"{tool}: missing operand\nTry '{tool} --help' for more information.\n");
        }
        return new Outcome("", stderr.ToString(), stderr.Length > 0 ? 1 : 0);
    }

    private Outcome CopyMove(string tool, List<string> paths)
    {
        if (paths.Count < 2)
        {
            return Outcome.Fail($"{tool}: missing file operand\n");
        }
        var target = Resolve(paths[^1]);
        var stderr = new StringBuilder();
        foreach (var source in paths[..^1])
        {
            var from = Resolve(source);
            var to = _context.FileSystem.IsDirectory(target) ? target.TrimEnd('/') + "/" + from[(from.LastIndexOf('/') + 1)..] : target;
            var ok = tool == "cp" ? _context.FileSystem.Copy(from, to) : _context.FileSystem.Move(from, to);
            if (!ok)
            {
                stderr.Append($"{tool}: cannot stat '{source}': No such file or directory\n");
            }
        }
        return new Outcome("", stderr.ToString(), stderr.Length > 0 ? 1 : 0);
    }

    [GeneratedRegex("\u0001([^\u0002]*)\u0002")]
    private static partial Regex VariableMarkerRegex();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*=")]
    private static partial Regex AssignmentRegex();

    [GeneratedRegex(@"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/|$)|^\d{1,3}(\.\d{1,3}){3}(:\d+)?(/|$)")]
    private static partial Regex UrlLikeRegex();

    [GeneratedRegex(@"^(?:[a-z]+://)?(?:[^@/]*@)?(?<host>[^/:?#]+)")]
    private static partial Regex HostRegex();
}
