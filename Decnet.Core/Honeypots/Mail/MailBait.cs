using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Mail;

/// <summary>One stored message: its UID, when it arrived, and its RFC 5322 text with CRLF line ends.</summary>
public sealed record MailMessage(int Uid, DateTimeOffset Received, string Subject, string Text)
{
    public byte[] Bytes { get; } = Encoding.UTF8.GetBytes(Text);

    public int Size => Bytes.Length;

    /// <summary>The header block including the blank line that ends it.</summary>
    public string Header => Text[..(Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];

    public string Body => Text[(Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
}

/// <summary>
/// The mailbox every login opens: ten messages a careless administrator keeps (cloud keys, database and VPN
/// passwords, tokens, a password reset). Generated from the hostname, so the same decky always shows the
/// same mail and two deckies never share secrets.
/// </summary>
public static class MailBait
{
    /// <summary>The logins upstream's mail servers accepted when none were configured.</summary>
    public static IReadOnlyDictionary<string, string> DefaultUsers { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["admin"] = "admin123",
        ["root"] = "toor",
        ["mail"] = "mail",
        ["user"] = "user",
    };

    public static IReadOnlyList<MailMessage> For(string hostname, string domain)
    {
        var random = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes("mail:" + hostname)), 0));
        string Token(int length, string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") =>
            new(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        var start = new DateTimeOffset(2025, 1, 6, 8, 0, 0, TimeSpan.Zero).AddDays(random.Next(0, 120));
        var internalNet = $"10.{random.Next(0, 60)}";

        var bodies = new (string From, string Subject, string Body)[]
        {
            ("aws-notifications@amazon.com", "Your AWS access keys for the deploy user",
                $"Hello,\r\n\r\nAs requested, new access keys were created for IAM user deploy-bot.\r\n\r\nAccess key ID: AKIA{Token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}\r\nSecret access key: {Token(40)}\r\n\r\nStore them securely. Amazon Web Services will never ask for your secret key.\r\n"),
            ($"dba@{domain}", "prod database credentials (do not forward)",
                $"Hi,\r\n\r\nhere are the new credentials after the rotation:\r\n\r\nhost: db-prod-01.{domain} ({internalNet}.4.12)\r\nport: 5432\r\nuser: app_admin\r\npassword: {Token(6)}!{Token(8)}\r\n\r\nThe old password stops working on Friday.\r\n\r\n-- \r\nMarek, DBA team\r\n"),
            ($"it-support@{domain}", "VPN access for the new contractor",
                $"Hello,\r\n\r\nVPN gateway: vpn.{domain}\r\nUsername: ext.contractor\r\nPassword: Welcome{random.Next(2023, 2026)}!{Token(3)}\r\nGroup: contractors\r\n\r\nPlease change the password after the first login.\r\n"),
            ("noreply@github.com", "[GitHub] A new personal access token was added to your account",
                $"A personal access token (classic) named \"ci-release\" was recently added to your account.\r\n\r\nToken: ghp_{Token(36)}\r\n\r\nIf you did not create this token, delete it and review your account's security log.\r\n"),
            ($"jenkins@{domain}", "Build #1482 failed: deploy-payments",
                $"Console output (tail):\r\n\r\n+ export STRIPE_SECRET_KEY=sk_live_{Token(24)}\r\n+ ./deploy.sh payments production\r\nERROR: connection to {internalNet}.9.20:22 timed out\r\n\r\nBuild URL: https://jenkins.{domain}/job/deploy-payments/1482/\r\n"),
            ($"ceo@{domain}", "Re: wire transfer this week",
                "Please process the payment to the new supplier account today, details attached earlier.\r\nKeep this between us until the deal is announced.\r\n\r\nSent from my iPhone\r\n"),
            ($"backup@{domain}", "Nightly backup report",
                $"Backup job nightly-full completed with warnings.\r\n\r\nTarget: s3://backups-{Token(8, "abcdefghijklmnopqrstuvwxyz0123456789")}/nightly/\r\nEncryption passphrase (for restore): {Token(5)}-{Token(5)}-{Token(5)}\r\nWarnings: 2 files changed during read\r\n"),
            ("security@okta.com", "Password reset requested",
                $"A password reset was requested for your account.\r\n\r\nReset link (valid 24 hours): https://{domain.Split('.')[0]}.okta.com/signin/reset-password/{Token(32)}\r\n\r\nIf you did not request this, ignore this message.\r\n"),
            ($"hr@{domain}", "Payroll spreadsheet Q1",
                $"Hi,\r\n\r\nthe payroll file is on the share \\\\fs01.{domain}\\hr$\\payroll\\2025-Q1.xlsx\r\nThe workbook password is {Token(10)}.\r\n\r\nThanks\r\n"),
            ($"monitoring@{domain}", "[ALERT] disk usage 91% on mail01",
                $"Host: mail01.{domain}\r\nCheck: disk /var/vmail\r\nStatus: WARNING 91%\r\n\r\nGrafana: https://grafana.{domain}/d/hosts (admin / {Token(12)})\r\n"),
        };

        var messages = new List<MailMessage>();
        var received = start;
        for (var i = 0; i < bodies.Length; i++)
        {
            received = received.AddHours(random.Next(5, 90)).AddMinutes(random.Next(60));
            var (from, subject, body) = bodies[i];
            var messageId = $"<{Token(16, "0123456789abcdef")}.{received.ToUnixTimeSeconds()}@{from.Split('@')[1]}>";
            var text = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"Return-Path: <{from}>\r\n")
                .Append(CultureInfo.InvariantCulture, $"Delivered-To: admin@{domain}\r\n")
                .Append(CultureInfo.InvariantCulture, $"Received: from mx.{domain} ({internalNet}.0.25)\r\n\tby {hostname} with LMTP id {Token(22)}\r\n\tfor <admin@{domain}>; {Rfc2822(received)}\r\n")
                .Append(CultureInfo.InvariantCulture, $"From: {from}\r\n")
                .Append(CultureInfo.InvariantCulture, $"To: admin@{domain}\r\n")
                .Append(CultureInfo.InvariantCulture, $"Subject: {subject}\r\n")
                .Append(CultureInfo.InvariantCulture, $"Date: {Rfc2822(received.AddMinutes(-random.Next(1, 5)))}\r\n")
                .Append(CultureInfo.InvariantCulture, $"Message-ID: {messageId}\r\n")
                .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
                .Append(body)
                .ToString();
            messages.Add(new MailMessage(i + 1, received, subject, text));
        }
        return messages;
    }

    /// <summary>The mail domain of a decky: the persona's, else the hostname's own domain, else a plausible company one.</summary>
    public static string DomainOf(string hostname, string? persona)
    {
        if (!string.IsNullOrWhiteSpace(persona))
        {
            return persona.Trim();
        }
        var dot = hostname.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < hostname.Length - 1 ? hostname[(dot + 1)..] : "corp-mail.net";
    }

    public static string Rfc2822(DateTimeOffset time) => time.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture);
}
