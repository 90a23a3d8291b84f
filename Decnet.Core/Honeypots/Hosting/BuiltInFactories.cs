namespace Decnet.Core.Honeypots.Hosting;

/// <summary>The honeypot services implemented in this assembly.</summary>
public static class BuiltInFactories
{
    public static IReadOnlyList<IHoneypotServiceFactory> All() =>
    [
        new Docker.DockerApiHoneypotFactory(),
        new Elasticsearch.ElasticsearchHoneypotFactory(),
        new Ftp.FtpHoneypotFactory(),
        new Http.HttpHoneypotFactory(),
        new Http.HttpsHoneypotFactory(),
        new Ics.ConpotHoneypotFactory(),
        new Kubernetes.KubernetesApiHoneypotFactory(),
        new Ldap.LdapHoneypotFactory(),
        new Mail.ImapHoneypotFactory(),
        new Mail.Pop3HoneypotFactory(),
        new Mongo.MongoHoneypotFactory(),
        new Mqtt.MqttHoneypotFactory(),
        new Mssql.MssqlHoneypotFactory(),
        new Mysql.MysqlHoneypotFactory(),
        new NameResolution.NameResolutionHoneypotFactory(),
        new Postgres.PostgresHoneypotFactory(),
        new Rdp.RdpHoneypotFactory(),
        new Redis.RedisHoneypotFactory(),
        new Sip.SipHoneypotFactory(),
        new Smb.SmbHoneypotFactory(),
        new Smtp.SmtpHoneypotFactory(),
        new Smtp.SmtpRelayHoneypotFactory(),
        new Snmp.SnmpHoneypotFactory(),
        new Ssh.SshServiceFactory(),
        new Telnet.TelnetServiceFactory(),
        new Tftp.TftpHoneypotFactory(),
        new Vnc.VncHoneypotFactory(),
    ];
}
