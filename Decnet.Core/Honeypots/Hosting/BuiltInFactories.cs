namespace Decnet.Core.Honeypots.Hosting;

/// <summary>The honeypot services implemented in this assembly.</summary>
public static class BuiltInFactories
{
    public static IReadOnlyList<IHoneypotServiceFactory> All() =>
    [
        new Docker.DockerApiHoneypotFactory(),
        new Ftp.FtpHoneypotFactory(),
        new Http.HttpHoneypotFactory(),
        new Http.HttpsHoneypotFactory(),
        new Ics.ConpotHoneypotFactory(),
        new Kubernetes.KubernetesApiHoneypotFactory(),
        new Mqtt.MqttHoneypotFactory(),
        new Mysql.MysqlHoneypotFactory(),
        new Redis.RedisHoneypotFactory(),
        new Sip.SipHoneypotFactory(),
        new Smtp.SmtpHoneypotFactory(),
        new Smtp.SmtpRelayHoneypotFactory(),
        new Ssh.SshServiceFactory(),
        new Telnet.TelnetServiceFactory(),
        new Tftp.TftpHoneypotFactory(),
    ];
}
