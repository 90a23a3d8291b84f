namespace Decnet.Core.Honeypots.Hosting;

/// <summary>The honeypot services implemented in this assembly.</summary>
public static class BuiltInFactories
{
    public static IReadOnlyList<IHoneypotServiceFactory> All() =>
    [
        new Ftp.FtpHoneypotFactory(),
        new Http.HttpHoneypotFactory(),
        new Http.HttpsHoneypotFactory(),
        new Ldap.LdapHoneypotFactory(),
        new Mssql.MssqlHoneypotFactory(),
        new Mysql.MysqlHoneypotFactory(),
        new NameResolution.NameResolutionHoneypotFactory(),
        new Rdp.RdpHoneypotFactory(),
        new Redis.RedisHoneypotFactory(),
        new Smb.SmbHoneypotFactory(),
        new Smtp.SmtpHoneypotFactory(),
        new Smtp.SmtpRelayHoneypotFactory(),
        new Ssh.SshServiceFactory(),
        new Telnet.TelnetServiceFactory(),
        new Vnc.VncHoneypotFactory(),
    ];
}
