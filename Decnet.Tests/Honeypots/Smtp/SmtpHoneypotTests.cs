using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Smtp;

namespace Decnet.Tests.Honeypots.Smtp;

public sealed class SmtpHoneypotTests
{
    private const string Message = "From: Billing <billing@spam.example>\r\nTo: victim@corp.example\r\nSubject: Invoice #4471 overdue\r\n\r\nPlease pay.\r\n.hidden line\r\n";

    private static Task<RealClient.Result> Curl(params string[] args) => RealClient.RunAsync("curl", ["-sS", "--max-time", "20", .. args]);

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task Default_mode_captures_auth_and_refuses_with_535(string mechanism)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpHoneypotFactory(), ports: [new(25)]);
        var file = Path.Combine(decky.Root, "msg.eml");
        await File.WriteAllTextAsync(file, Message);

        var result = await Curl("--user", "postmaster:Sp4mMe!", "--login-options", "AUTH=" + mechanism,
            "--mail-from", "billing@spam.example", "--mail-rcpt", "victim@corp.example", "--upload-file", file, $"smtp://{decky.Address}");
        Assert.Equal(67, result.ExitCode);

        var auth = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("postmaster", auth.Field("username"));
        Assert.Equal("Sp4mMe!", auth.Field("password"));
        Assert.Equal(mechanism, auth.Field("mechanism"));
        Assert.NotNull(auth.Field("src_ip"));
        Assert.NotNull(decky.Sink.OfType("ehlo").SingleOrDefault());
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData(null, null, null)]
    [InlineData("mx1.corp.example", null, "mx1.corp.example")]
    [InlineData(null, "mail.corp.example ESMTP Postfix (Ubuntu)", "mail.corp.example")]
    [InlineData(null, "220 relay.corp.example ESMTP Exim 4.96", "relay.corp.example")]
    public async Task Greeting_and_ehlo_announce_one_configured_host_name(string? mta, string? banner, string? expected)
    {
        await using var decky = TestDecky.Create();
        var persona = new Dictionary<string, string>();
        if (mta is not null)
        {
            persona["mta"] = mta;
        }
        if (banner is not null)
        {
            persona["banner"] = banner;
        }
        await decky.StartAsync(new SmtpHoneypotFactory(), persona, ports: [new(25)]);
        expected ??= decky.Context().Hostname;

        // swaks prints what the server says, prefixed with "<-".
        var session = await RealClient.RunAsync("swaks", ["--server", decky.Address.ToString(), "--port", "25", "--quit-after", "EHLO", "--ehlo", "client.example"]);

        var greeting = session.StdOut.Split('\n').First(l => l.StartsWith("<-  220 ", StringComparison.Ordinal));
        var ehlo = session.StdOut.Split('\n').First(l => l.StartsWith("<-  250", StringComparison.Ordinal));
        Assert.Equal(expected, greeting["<-  220 ".Length..].Split(' ')[0]);
        Assert.Equal(expected, ehlo["<-  250-".Length..].Trim());
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Default_mode_denies_relaying_and_logs_the_recipient()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpHoneypotFactory(), ports: [new(25)]);
        var file = Path.Combine(decky.Root, "msg.eml");
        await File.WriteAllTextAsync(file, Message);

        var result = await Curl("--mail-from", "a@spam.example", "--mail-rcpt", "b@corp.example", "--upload-file", file, $"smtp://{decky.Address}");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("b@corp.example", (await decky.Sink.WaitForAsync("rcpt_denied")).Field("address"));
        Assert.Equal("a@spam.example", (await decky.Sink.WaitForAsync("mail_from")).Field("address"));
        Assert.Empty(decky.Sink.OfType("message_accepted"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Relay_mode_accepts_auth_and_queues_the_message_as_an_artifact()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpRelayHoneypotFactory(), new Dictionary<string, string> { ["mta"] = "mx1.corp.example" }, ports: [new(587)]);
        var file = Path.Combine(decky.Root, "msg.eml");
        await File.WriteAllTextAsync(file, Message);

        var result = await Curl("-v", "--user", "relay:relay123", "--mail-from", "billing@spam.example",
            "--mail-rcpt", "v1@corp.example", "--mail-rcpt", "v2@corp.example", "--upload-file", file, $"smtp://{decky.Address}:587");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("220 mx1.corp.example ESMTP Postfix (Debian/GNU)", result.StdErr, StringComparison.Ordinal);

        var accepted = await decky.Sink.WaitForAsync("message_accepted");
        Assert.Equal("smtp_relay", accepted.Service);
        Assert.Equal("billing@spam.example", accepted.Field("mail_from"));
        Assert.Equal("v1@corp.example,v2@corp.example", accepted.Field("rcpt_to"));
        Assert.Equal("Invoice #4471 overdue", accepted.Field("subject"));
        Assert.Matches("^[0-9A-F]{10}$", accepted.Field("queue_id"));
        Assert.Contains($"queued as {accepted.Field("queue_id")}", result.StdErr, StringComparison.Ordinal);

        // curl dot-stuffs ".hidden line"; the stored message must be the original bytes.
        var expectedSha = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(Message)));
        Assert.Equal(expectedSha, accepted.Field("sha256"));
        var stored = Path.Combine(decky.ArtifactsDirectory, decky.Name, "smtp_relay", accepted.Field("stored_as")!);
        Assert.Equal(Message, await File.ReadAllTextAsync(stored));
        Assert.Equal("success", (await decky.Sink.WaitForAsync("auth_attempt")).Field("status"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Relay_mode_refuses_a_message_over_the_size_limit_and_keeps_none_of_its_bytes()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpRelayHoneypotFactory(), ports: [new(25)]);
        var big = Path.Combine(decky.Root, "big.eml");
        var line = new string('z', 98) + "\r\n";
        await File.WriteAllTextAsync(big, "Subject: too big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, (SmtpHoneypot.MaxMessageBytes / line.Length) + 5_000)),
            TestContext.Current.CancellationToken);

        var refused = await Curl("-v", "--mail-from", "a@spam.example", "--mail-rcpt", "b@corp.example", "--upload-file", big, $"smtp://{decky.Address}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("552 5.3.4 Error: message file too big", refused.StdErr, StringComparison.Ordinal);
        Assert.Equal("too_big", (await decky.Sink.WaitForAsync("message_rejected")).Field("reason"));
        // The body streamed to disk while it arrived; once refused, neither the file nor its quota remain.
        var folder = Path.Combine(decky.ArtifactsDirectory, decky.Name, "smtp_relay");
        Assert.Empty(Directory.Exists(folder) ? Directory.GetFiles(folder) : []);
        Assert.Equal(0, decky.Artifacts.UsedBy(decky.Name));

        var small = Path.Combine(decky.Root, "msg.eml");
        await File.WriteAllTextAsync(small, Message, TestContext.Current.CancellationToken);
        var sent = await Curl("--mail-from", "a@spam.example", "--mail-rcpt", "b@corp.example", "--upload-file", small, $"smtp://{decky.Address}");
        Assert.True(sent.ExitCode == 0, sent.StdErr);
        var accepted = await decky.Sink.WaitForAsync("message_accepted");
        Assert.Equal("Invoice #4471 overdue", accepted.Field("subject"));
        Assert.Equal(Message, await File.ReadAllTextAsync(Path.Combine(folder, accepted.Field("stored_as")!), TestContext.Current.CancellationToken));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Swaks_auth_login_is_captured_by_the_relay()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmtpRelayHoneypotFactory(), ports: [new(25)]);
        var result = await RealClient.RunAsync("swaks", ["--server", decky.Address.ToString(), "--auth", "LOGIN", "--auth-user", "mailer", "--auth-password", "m@iler!",
            "--from", "x@spam.example", "--to", "y@corp.example", "--header", "Subject: swaks probe", "--timeout", "10"]);
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        var auth = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal(("mailer", "m@iler!"), (auth.Field("username"), auth.Field("password")));
        Assert.Equal("swaks probe", (await decky.Sink.WaitForAsync("message_accepted")).Field("subject"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Vrfy_unknown_commands_and_quit_get_postfix_replies()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SmtpHoneypotFactory(), new Dictionary<string, string> { ["banner"] = "mail.example.net ESMTP Sendmail 8.15.2" }, ports: [new(25)]);
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("smtp", 25));
        var reader = new StreamReader(client.GetStream());
        var writer = new StreamWriter(client.GetStream()) { AutoFlush = true, NewLine = "\r\n" };
        Assert.Equal("220 mail.example.net ESMTP Sendmail 8.15.2", await reader.ReadLineAsync());
        await writer.WriteLineAsync("MAIL FROM:<a@b>");
        Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", await reader.ReadLineAsync());
        await writer.WriteLineAsync("VRFY root");
        Assert.Equal("252 2.0.0 root", await reader.ReadLineAsync());
        await writer.WriteLineAsync("XYZZY now");
        Assert.Equal("502 5.5.2 Error: command not recognized", await reader.ReadLineAsync());
        await writer.WriteLineAsync("RSET");
        Assert.Equal("250 2.0.0 Ok", await reader.ReadLineAsync());
        await writer.WriteLineAsync("QUIT");
        Assert.Equal("221 2.0.0 Bye", await reader.ReadLineAsync());
        Assert.Equal("root", (await decky.Sink.WaitForAsync("vrfy")).Field("address"));
        Assert.Equal("XYZZY now", (await decky.Sink.WaitForAsync("unknown_command")).Field("command"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_and_abandoned_data_never_break_the_listener()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SmtpRelayHoneypotFactory(), ports: [new(25)]);
        await Robustness.SendGarbageAsync(hosted.EndPointOf("smtp_relay", 25),
        [
            "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: half"u8.ToArray(),
            "EHLO x\r\nAUTH PLAIN\r\n!!!notbase64\r\nAUTH LOGIN\r\n"u8.ToArray(),
            "EHLO x\r\nAUTH PLAIN AGZvbw==\r\nAUTH CRAM-MD5\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("BAD\r\n", 50))),
            Encoding.ASCII.GetBytes("EHLO " + new string('h', 100_000) + "\r\n"),
        ]);
        var result = await RealClient.RunAsync("swaks", ["--server", decky.Address.ToString(), "--from", "x@spam.example", "--to", "y@corp.example", "--timeout", "10"]);
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        await decky.AssertNoSessionFaultsAsync();
    }
}
