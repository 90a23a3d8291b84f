namespace Decnet.Core.Honeypots.Hosting;

/// <summary>The honeypot services implemented in this assembly.</summary>
public static class BuiltInFactories
{
    public static IReadOnlyList<IHoneypotServiceFactory> All() =>
    [
        new Elasticsearch.ElasticsearchHoneypotFactory(),
        new Ftp.FtpHoneypotFactory(),
        new Http.HttpHoneypotFactory(),
        new Http.HttpsHoneypotFactory(),
        new Mail.ImapHoneypotFactory(),
        new Mail.Pop3HoneypotFactory(),
        new Mongo.MongoHoneypotFactory(),
        new Mssql.MssqlHoneypotFactory(),
        new Mysql.MysqlHoneypotFactory(),
        new Postgres.PostgresHoneypotFactory(),
        new Redis.RedisHoneypotFactory(),
        new Smb.SmbHoneypotFactory(),
        new Smtp.SmtpHoneypotFactory(),
        new Smtp.SmtpRelayHoneypotFactory(),
        new Snmp.SnmpHoneypotFactory(),
        new Ssh.SshServiceFactory(),
        new Telnet.TelnetServiceFactory(),
        new Vnc.VncHoneypotFactory(),
    ];
}
