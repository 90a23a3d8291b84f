using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>Facts of a distro persona: what uname, /etc/os-release and the login banner say.</summary>
public sealed record DistroPersona(string Slug, string PrettyName, string OsRelease, string Issue, string Kernel, string Motd, string Shell)
{
    /// <summary>The kernel build string of <c>uname -v</c>, as each distro's kernel package prints it.</summary>
    public string KernelBuild => Slug switch
    {
        "debian" => "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)",
        "kali" => "#1 SMP PREEMPT_DYNAMIC Kali 6.8.11-1kali2 (2024-05-30)",
        "ubuntu22" => "#117-Ubuntu SMP Fri Apr 26 12:26:49 UTC 2024",
        "ubuntu20" => "#202-Ubuntu SMP Thu May 16 11:31:11 UTC 2024",
        "alpine" => "#1-Alpine SMP PREEMPT_DYNAMIC Fri, 26 Jan 2024 11:01:07 +0000",
        "arch" => "#1 SMP PREEMPT_DYNAMIC Thu, 27 Jun 2024 16:49:12 +0000",
        "fedora" => "#1 SMP PREEMPT_DYNAMIC Thu May  2 18:44:19 UTC 2024",
        _ => "#1 SMP PREEMPT_DYNAMIC Tue May 14 14:49:25 UTC 2024",
    };
}

/// <summary>
/// Builds the read-only persona filesystem of a decky: distro-correct release files, users, /proc, and
/// bait (cloud credentials, .env with database passwords, a lived-in bash history). Deterministic per
/// hostname so the same decky always shows the same secrets.
/// </summary>
public static class PersonaFileSystem
{
    private const string DebianMotd = "\nThe programs included with the Debian GNU/Linux system are free software;\nthe exact distribution terms for each program are described in the\nindividual files in /usr/share/doc/*/copyright.\n\nDebian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\npermitted by applicable law.\n";
    private const string UbuntuMotd = "\n * Documentation:  https://help.ubuntu.com\n * Management:     https://landscape.canonical.com\n * Support:        https://ubuntu.com/pro\n";

    public static DistroPersona Distro(string slug) => slug switch
    {
        "ubuntu22" => new(slug, "Ubuntu 22.04.4 LTS",
            "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nHOME_URL=\"https://www.ubuntu.com/\"\nSUPPORT_URL=\"https://help.ubuntu.com/\"\nBUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\nUBUNTU_CODENAME=jammy\n",
            "Ubuntu 22.04.4 LTS \\n \\l\n\n", "5.15.0-107-generic", "Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-107-generic x86_64)\n" + UbuntuMotd, "/bin/bash"),
        "ubuntu20" => new(slug, "Ubuntu 20.04.6 LTS",
            "NAME=\"Ubuntu\"\nVERSION=\"20.04.6 LTS (Focal Fossa)\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 20.04.6 LTS\"\nVERSION_ID=\"20.04\"\nHOME_URL=\"https://www.ubuntu.com/\"\nSUPPORT_URL=\"https://help.ubuntu.com/\"\nBUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\nVERSION_CODENAME=focal\nUBUNTU_CODENAME=focal\n",
            "Ubuntu 20.04.6 LTS \\n \\l\n\n", "5.4.0-182-generic", "Welcome to Ubuntu 20.04.6 LTS (GNU/Linux 5.4.0-182-generic x86_64)\n" + UbuntuMotd, "/bin/bash"),
        "rocky9" => new(slug, "Rocky Linux 9.4 (Blue Onyx)",
            "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPLATFORM_ID=\"platform:el9\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\nANSI_COLOR=\"0;32\"\nHOME_URL=\"https://rockylinux.org/\"\n",
            "\\S\nKernel \\r on an \\m\n\n", "5.14.0-427.16.1.el9_4.x86_64", "", "/bin/bash"),
        "centos7" => new(slug, "CentOS Linux 7 (Core)",
            "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\nANSI_COLOR=\"0;31\"\nCPE_NAME=\"cpe:/o:centos:centos:7\"\nHOME_URL=\"https://www.centos.org/\"\n",
            "\\S\nKernel \\r on an \\m\n\n", "3.10.0-1160.119.1.el7.x86_64", "", "/bin/bash"),
        "alpine" => new(slug, "Alpine Linux v3.19",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\nHOME_URL=\"https://alpinelinux.org/\"\nBUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n",
            "Welcome to Alpine Linux 3.19\nKernel \\r on an \\m (\\l)\n\n", "6.6.14-0-lts", "Welcome to Alpine!\n", "/bin/ash"),
        "fedora" => new(slug, "Fedora Linux 39 (Server Edition)",
            "NAME=\"Fedora Linux\"\nVERSION=\"39 (Server Edition)\"\nID=fedora\nVERSION_ID=39\nPRETTY_NAME=\"Fedora Linux 39 (Server Edition)\"\nANSI_COLOR=\"0;38;2;60;110;180\"\nCPE_NAME=\"cpe:/o:fedoraproject:fedora:39\"\nHOME_URL=\"https://fedoraproject.org/\"\nVARIANT=\"Server Edition\"\nVARIANT_ID=server\n",
            "\\S\nKernel \\r on an \\m (\\l)\n\n", "6.8.9-200.fc39.x86_64", "", "/bin/bash"),
        "kali" => new(slug, "Kali GNU/Linux Rolling",
            "PRETTY_NAME=\"Kali GNU/Linux Rolling\"\nNAME=\"Kali GNU/Linux\"\nVERSION_ID=\"2024.2\"\nVERSION=\"2024.2\"\nVERSION_CODENAME=kali-rolling\nID=kali\nID_LIKE=debian\nHOME_URL=\"https://www.kali.org/\"\n",
            "Kali GNU/Linux Rolling \\n \\l\n\n", "6.8.11-amd64", "\nThe programs included with the Kali GNU/Linux system are free software;\nthe exact distribution terms for each program are described in the\nindividual files in /usr/share/doc/*/copyright.\n", "/usr/bin/zsh"),
        "arch" => new(slug, "Arch Linux",
            "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\nANSI_COLOR=\"38;2;23;147;209\"\nHOME_URL=\"https://archlinux.org/\"\nLOGO=archlinux-logo\n",
            "Arch Linux \\r (\\l)\n\n", "6.9.7-arch1-1", "", "/bin/bash"),
        _ => new("debian", "Debian GNU/Linux 12 (bookworm)",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n",
            "Debian GNU/Linux 12 \\n \\l\n\n", "6.1.0-21-amd64", DebianMotd, "/bin/bash"),
    };

    /// <summary>What a login prints before the first prompt: uname line and motd (Debian style), then "Last login".</summary>
    public static string LoginBanner(string distroSlug, string hostname, DateTimeOffset now)
    {
        var distro = Distro(distroSlug);
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes("decnet-lastlogin:" + hostname));
        var last = now.AddHours(-(seed[0] % 96) - 2).AddMinutes(-seed[1] % 60);
        var from = $"10.0.1.{seed[2] % 200 + 20}";
        var uname = distro.Slug is "debian" or "kali" ? $"Linux {hostname} {distro.Kernel} {distro.KernelBuild} x86_64\n" : "";
        return uname + distro.Motd + (distro.Motd.Length > 0 ? "\n" : "") + $"Last login: {last.ToString("ddd MMM d HH:mm:ss yyyy", System.Globalization.CultureInfo.InvariantCulture)} from {from}\n";
    }

    public static IReadOnlyDictionary<string, ShellNode> Build(string hostname, string distroSlug, IEnumerable<string> users, DateTimeOffset now)
    {
        var distro = Distro(distroSlug);
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes("decnet-persona:" + hostname));
        string Secret(int offset, int length, string alphabet) =>
            new([.. Enumerable.Range(0, length).Select(i => alphabet[(seed[(offset + i) % seed.Length] ^ (i * 7)) % alphabet.Length])]);
        const string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const string mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        var awsKey = "AKIA" + Secret(0, 16, upper);
        var awsSecret = Secret(3, 40, mixed);
        var dbPassword = Secret(9, 14, mixed);
        // Dates follow the clock: installed a year or so before now, configured since, used in the last weeks,
        // runtime folders from the last boot. Each path gets its own stable time inside its span.
        var boot = PersonaClock.BootTime(hostname, now);
        var installed = boot.AddDays(-(200 + seed[5] % 400));
        DateTimeOffset Modified(string path)
        {
            var (from, to) = path switch
            {
                "/" or "/bin" or "/boot" or "/lib" or "/media" or "/mnt" or "/sbin" or "/srv" or "/usr" or "/usr/lib" or "/usr/share" => (installed, installed.AddDays(2)),
                _ when path.StartsWith("/usr/bin/", StringComparison.Ordinal) || path is "/usr/bin" or "/usr/sbin" => (installed, installed.AddDays(2)),
                "/dev" or "/proc" or "/run" or "/sys" or "/dev/shm" or "/tmp" or "/var/tmp" => (boot, boot.AddMinutes(1)),
                _ when path.StartsWith("/proc/", StringComparison.Ordinal) => (boot, boot.AddMinutes(1)),
                "/var/log/auth.log" or "/var/log" => (now.AddMinutes(-40), now.AddMinutes(-1)),
                _ when path.StartsWith("/root", StringComparison.Ordinal) || path.StartsWith("/home", StringComparison.Ordinal) || path.StartsWith("/opt/app", StringComparison.Ordinal)
                    || path.StartsWith("/var/www", StringComparison.Ordinal) || path == "/var/backups" => (now.AddDays(-45), now.AddHours(-2)),
                _ => (installed.AddDays(2), boot),
            };
            return PersonaClock.Between(hostname, path, from, to);
        }

        var nodes = new Dictionary<string, ShellNode>(StringComparer.Ordinal) { ["/"] = ShellNode.Directory(Modified("/")) };
        void Dir(string path, string owner = "root") => nodes[path] = ShellNode.Directory(Modified(path), owner);
        void File(string path, string text, string mode = "-rw-r--r--", string owner = "root") => nodes[path] = ShellNode.File(Encoding.UTF8.GetBytes(text), Modified(path), mode, owner);

        foreach (var dir in new[] { "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/share", "/var", "/var/log", "/var/lib", "/var/tmp", "/var/www", "/var/backups", "/etc/ssh", "/root/.ssh", "/root/.aws", "/opt/app", "/dev/shm" })
        {
            Dir(dir);
        }
        nodes["/tmp"] = nodes["/tmp"] with { Mode = "drwxrwxrwt" };
        nodes["/root"] = nodes["/root"] with { Mode = "drwx------" };

        var passwd = new StringBuilder("root:x:0:0:root:/root:" + distro.Shell + "\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nsshd:x:101:65534::/run/sshd:/usr/sbin/nologin\nmysql:x:102:105:MySQL Server,,,:/nonexistent:/bin/false\n");
        var uid = 1000;
        foreach (var user in users.Where(u => u != "root").Distinct())
        {
            passwd.Append(user).Append(":x:").Append(uid).Append(':').Append(uid).Append(":,,,:/home/").Append(user).Append(':').Append(distro.Shell).Append('\n');
            Dir("/home/" + user, user);
            File("/home/" + user + "/.bash_history", "ls -la\nsudo -l\ncat /etc/os-release\n", "-rw-------", user);
            uid++;
        }
        File("/etc/passwd", passwd.ToString());
        File("/etc/shadow", "root:$y$j9T$" + Secret(1, 22, mixed) + "$" + Secret(5, 43, mixed) + ":" + ((int)(installed - DateTimeOffset.UnixEpoch).TotalDays).ToString(System.Globalization.CultureInfo.InvariantCulture) + ":0:99999:7:::\n", "-rw-r-----");
        File("/etc/group", "root:x:0:\nsudo:x:27:\nwww-data:x:33:\n");
        File("/etc/hostname", hostname + "\n");
        File("/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\t" + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        File("/etc/os-release", distro.OsRelease);
        File("/etc/issue", distro.Issue);
        File("/etc/issue.net", distro.PrettyName + "\n");
        File("/etc/motd", distro.Motd);
        File("/etc/resolv.conf", "nameserver 10.0.0.2\nsearch localdomain\n");
        File("/etc/crontab", "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n*/5 * * * *\troot\t/opt/app/backup.sh >/dev/null 2>&1\n");
        File("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n");
        File("/proc/cpuinfo", CpuInfo(seed[1] % 2 == 0 ? 2 : 4));
        File("/proc/meminfo", "MemTotal:        4028152 kB\nMemFree:          512344 kB\nMemAvailable:    2876540 kB\nBuffers:          201388 kB\nCached:          2034164 kB\nSwapCached:            0 kB\nSwapTotal:       1048572 kB\nSwapFree:        1048572 kB\n");
        File("/proc/version", "Linux version " + distro.Kernel + " (gcc version 12.2.0) #1 SMP PREEMPT_DYNAMIC\n");
        var up = (now - boot).TotalSeconds;
        File("/proc/uptime", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{up:0.00} {up * 1.93:0.00}\n"));
        File("/root/.bash_history",
            "apt update && apt upgrade -y\nsystemctl status nginx\nmysql -u app -p\nvim /var/www/.env\ncd /opt/app\n./backup.sh\naws s3 ls s3://" + hostname.ToLowerInvariant() + "-backups/\ncat ~/.aws/credentials\nssh deploy@10.0.1.12\ndf -h\nexit\n",
            "-rw-------");
        File("/root/.bashrc", "# ~/.bashrc: executed by bash(1) for non-login shells.\nexport PS1='\\u@\\h:\\w\\$ '\nalias ll='ls -alF'\n");
        File("/root/.profile", "if [ \"$BASH\" ]; then\n  if [ -f ~/.bashrc ]; then\n    . ~/.bashrc\n  fi\nfi\n");
        File("/root/.aws/credentials", "[default]\naws_access_key_id = " + awsKey + "\naws_secret_access_key = " + awsSecret + "\n\n[backup]\naws_access_key_id = AKIA" + Secret(11, 16, upper) + "\naws_secret_access_key = " + Secret(17, 40, mixed) + "\n", "-rw-------");
        File("/root/.aws/config", "[default]\nregion = eu-west-1\noutput = json\n");
        File("/root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + Secret(2, 43, mixed) + " deploy@build01\n", "-rw-------");
        File("/root/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACD" + Secret(4, 43, mixed) + "\n" + Secret(8, 70, mixed) + "\n" + Secret(12, 70, mixed) + "\nAAAECdeploy@build01\n-----END OPENSSH PRIVATE KEY-----\n", "-rw-------");
        File("/root/.env", "DB_HOST=10.0.1.20\nDB_USER=app\nDB_PASSWORD=" + dbPassword + "\nREDIS_URL=redis://10.0.1.21:6379/0\n", "-rw-------");
        File("/root/notes.txt", "Before go-live:\n- rotate the AWS backup key (still the one from the old laptop)\n- mysql root pw is in /var/www/.env, move it to vault\n- disable password login on " + hostname + "\n");
        File("/var/www/.env", "APP_ENV=production\nAPP_KEY=base64:" + Secret(6, 43, mixed) + "=\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=app_prod\nDB_USERNAME=root\nDB_PASSWORD=" + dbPassword + "\nMAIL_PASSWORD=" + Secret(13, 12, mixed) + "\n", "-rw-r-----", "www-data");
        File("/opt/app/backup.sh", "#!/bin/sh\nmysqldump -u root -p\"$DB_PASSWORD\" app_prod | gzip > /var/backups/app_prod.sql.gz\naws s3 cp /var/backups/app_prod.sql.gz s3://" + hostname.ToLowerInvariant() + "-backups/\n", "-rwxr-xr-x");
        File("/var/log/auth.log", "");
        foreach (var binary in ShellCommandNames.Binaries)
        {
            File("/usr/bin/" + binary, "\x7fELF", "-rwxr-xr-x");
        }
        return nodes;
    }

    private static string CpuInfo(int cores)
    {
        var text = new StringBuilder();
        for (var i = 0; i < cores; i++)
        {
            text.Append("processor\t: ").Append(i).Append("\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz\nstepping\t: 7\ncpu MHz\t\t: 2999.998\ncache size\t: 36608 KB\ncpu cores\t: ")
                .Append(cores).Append("\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch avx2 avx512f\nbogomips\t: 5999.99\n\n");
        }
        return text.ToString();
    }
}
