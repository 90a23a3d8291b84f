using System.Text;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Core.Honeypots.Tftp;

/// <summary>
/// What a TFTP server on a LAN typically holds, and what attackers ask it for: network device
/// configurations (with reversible type-7 passwords and MD5 enable secrets to crack), PXE boot menus
/// naming kickstart files and root hashes. The persona's <c>files</c> folder is served first.
/// </summary>
public sealed class TftpBaitFiles
{
    private readonly Dictionary<string, byte[]> _builtIn;
    private readonly StaticFiles? _folder;

    public TftpBaitFiles(string hostname, string? folder)
    {
        _folder = StaticFiles.From(folder);
        var name = hostname.Split('.')[0];
        var router = $"""
            !
            version 15.2
            service timestamps debug datetime msec
            service timestamps log datetime msec
            no service password-encryption
            !
            hostname {name}-gw
            !
            boot-start-marker
            boot-end-marker
            !
            enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0
            !
            username admin privilege 15 password 7 0822455D0A16544541
            username netops privilege 15 secret 5 $1$Gk3v$3vIyb1XVh0mRz8Rj0E7Ci/
            !
            ip domain name corp.local
            ip name-server 10.0.0.53
            !
            interface GigabitEthernet0/0
             description UPLINK-ISP
             ip address 203.0.113.18 255.255.255.252
             duplex auto
             speed auto
            !
            interface GigabitEthernet0/1
             description LAN
             ip address 10.0.0.1 255.255.255.0
            !
            ip route 0.0.0.0 0.0.0.0 203.0.113.17
            !
            snmp-server community c0rpR34d RO
            snmp-server community c0rpWr1t3 RW
            !
            tacacs-server host 10.0.0.20 key 7 1511021F0725
            !
            line vty 0 4
             password 7 045802150C2E1D1C5A
             login local
             transport input ssh telnet
            !
            end
            """;
        var pxe = $"""
            DEFAULT install
            PROMPT 0
            TIMEOUT 50
            LABEL install
              MENU LABEL Install {name} build image
              KERNEL images/debian12/linux
              APPEND initrd=images/debian12/initrd.gz auto=true priority=critical url=http://10.0.0.5/preseed/{name}.cfg netcfg/get_hostname={name}
            LABEL rescue
              KERNEL images/debian12/linux
              APPEND initrd=images/debian12/initrd.gz rescue/enable=true
            """;
        var preseed = """
            d-i passwd/root-login boolean true
            d-i passwd/root-password-crypted password $6$rounds=5000$q8Rt1vC2$B4pYqE0u0n1Wm0u7m6Yj4bDk3t1sH9mF3qXz5cL2aV8nR0eW1pT6yU9iO3kJ7hG2fD4sA1zX5cV8bN0mQ.
            d-i passwd/user-fullname string Deploy
            d-i passwd/username string deploy
            d-i passwd/user-password-crypted password $6$rounds=5000$Zk2Lw8Pq$Q1wE3rT5yU7iO9pA2sD4fG6hJ8kL0zX2cV4bN6mQ8wE0rT2yU4iO6pA8sD0fG2hJ4kL6zX8cV0bN2mQ4wE6.
            d-i preseed/late_command string in-target sh -c 'echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy'
            """;
        _builtIn = new Dictionary<string, byte[]>(StringComparer.OrdinalIgnoreCase)
        {
            ["running-config"] = Text(router),
            ["startup-config"] = Text(router),
            [$"{name}-confg"] = Text(router),
            ["router-confg"] = Text(router),
            ["pxelinux.cfg/default"] = Text(pxe),
            [$"preseed/{name}.cfg"] = Text(preseed),
        };
    }

    /// <summary>The file's bytes, or null. Leading slashes are dropped; paths with "." or ".." segments find nothing.</summary>
    public byte[]? Find(string fileName)
    {
        var path = fileName.Replace('\\', '/').TrimStart('/');
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments.Any(s => s is "." or ".." || s.Contains('\0', StringComparison.Ordinal)))
        {
            return null;
        }
        if (_folder?.Find("/" + string.Join('/', segments.Select(Uri.EscapeDataString))) is { } file)
        {
            return file.Content;
        }
        return _builtIn.GetValueOrDefault(string.Join('/', segments));
    }

    private static byte[] Text(string text) => Encoding.ASCII.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
}
