using System.Text.Json;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// Reads a CSV file with Debian's Python csv module, an independent RFC 4180 reader, the way an analyst's
/// script would: each record as its list of cells.
/// </summary>
public static class PythonCsv
{
    public const string Python = "/usr/bin/python3";

    private const string Reader =
        "import csv, json, sys\n" +
        "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n" +
        "    print(json.dumps(list(csv.reader(f, strict=True))))\n";

    public static async Task<IReadOnlyList<IReadOnlyList<string>>> ReadAsync(string path)
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing: the test command installs Debian's python3 package.");
        }
        var (exitCode, output) = await Clients.RunAsync(Python, ["-c", Reader, path], TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, output);
        return JsonSerializer.Deserialize<List<List<string>>>(output)!;
    }
}
