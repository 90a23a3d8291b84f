using System.Text;
using Decnet.Core.Honeypots.Mail;

namespace Decnet.Tests.Honeypots.Mail;

public sealed class ImapHoneypotTests
{
    private static Task<RealClient.Result> Curl(params string[] args) =>
        RealClient.RunAsync("curl", ["-s", "-S", "--max-time", "20", .. args]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Curl_logs_in_with_sasl_plain_and_reads_bait_mail_while_every_step_is_recorded()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ImapHoneypotFactory());

        var message = await Curl("-u", "admin:admin123", $"imap://{decky.Address}/INBOX;UID=1");
        Assert.True(message.ExitCode == 0, message.StdErr);
        Assert.Contains("Subject: Your AWS access keys for the deploy user", message.StdOut, StringComparison.Ordinal);
        Assert.Matches("Access key ID: AKIA[A-Z2-7]{16}", message.StdOut);

        var list = await Curl("-u", "user:user", $"imap://{decky.Address}/");
        Assert.Contains("* LIST (\\HasNoChildren) \".\" INBOX", list.StdOut, StringComparison.Ordinal);
        Assert.Contains("\\Sent) \".\" Sent", list.StdOut, StringComparison.Ordinal);
        var search = await Curl("-u", "user:user", $"imap://{decky.Address}/INBOX?SUBJECT%20database");
        Assert.Equal("* SEARCH 2", search.StdOut.Trim());

        var auth = await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "admin");
        Assert.Equal("PLAIN", auth.Field("mechanism"));
        Assert.Equal("admin123", auth.Field("password"));
        Assert.Equal("success", auth.Field("status"));
        var fetch = await decky.Sink.WaitForAsync("fetch");
        Assert.Equal("1", fetch.Field("read"));
        Assert.Equal("Your AWS access keys for the deploy user", fetch.Field("subjects"));
        Assert.Equal("admin", fetch.Field("username"));
        await decky.Sink.WaitForAsync("command", e => e.Field("command") == "SELECT" && e.Field("args") == "INBOX");
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("AUTH=LOGIN", "LOGIN")]
    [InlineData("AUTH=PLAIN", "PLAIN")]
    public async Task A_wrong_password_is_refused_like_dovecot_and_becomes_a_credential_bounty(string loginOptions, string mechanism)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ImapHoneypotFactory(), new Dictionary<string, string> { ["users"] = "ceo:Chang3me!" });

        var denied = await Curl("--login-options", loginOptions, "-u", "ceo:Summer2025", $"imap://{decky.Address}/");
        Assert.Equal(67, denied.ExitCode);
        // The persona's users replace the default ones.
        Assert.Equal(67, (await Curl("-u", "admin:admin123", $"imap://{decky.Address}/")).ExitCode);

        var auth = await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "ceo");
        Assert.Equal(mechanism, auth.Field("mechanism"));
        Assert.Equal("failed", auth.Field("status"));
        var bounty = DataFamilyKit.CredentialOf(auth);
        Assert.Equal("ceo", bounty["username"]);
        Assert.Equal("Summer2025", bounty["password"]);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Starttls_on_143_and_implicit_tls_on_993_protect_the_login()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ImapHoneypotFactory());

        var upgraded = await Curl("-k", "--ssl-reqd", "-u", "root:toor", $"imap://{decky.Address}/INBOX;UID=3");
        Assert.True(upgraded.ExitCode == 0, upgraded.StdErr);
        Assert.Contains("Subject: VPN access for the new contractor", upgraded.StdOut, StringComparison.Ordinal);
        var implicitTls = await Curl("-k", "-u", "mail:mail", $"imaps://{decky.Address}/INBOX;UID=4");
        Assert.True(implicitTls.ExitCode == 0, implicitTls.StdErr);
        Assert.Contains("ghp_", implicitTls.StdOut, StringComparison.Ordinal);

        await decky.Sink.WaitForAsync("starttls");
        Assert.Equal("true", (await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "root")).Field("tls"));
        Assert.Equal("true", (await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "mail")).Field("tls"));
        Assert.True(decky.Sink.OfType("tls_session").Count >= 2);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_guessing_imap_logins_finds_the_persona_password_and_every_guess_is_recorded()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ImapHoneypotFactory(), new Dictionary<string, string> { ["users"] = "backup:letmein" });
        var words = Path.Combine(decky.Root, "words.txt");
        await File.WriteAllLinesAsync(words, ["123456", "password", "letmein", "qwerty"]);

        var hydra = await RealClient.RunAsync("hydra", ["-l", "backup", "-P", words, "-t", "2", "-f", $"imap://{decky.Address}"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("login: backup   password: letmein", hydra.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("auth", e => e.Field("password") == "letmein" && e.Field("status") == "success");
        Assert.Contains(decky.Sink.OfType("auth"), e => e.Field("password") == "123456" && e.Field("status") == "failed");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_commands_and_hostile_literals_fault_no_session_and_curl_is_still_served()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new ImapHoneypotFactory());
        var endPoint = hosted.EndPointOf("imap", 143);
        var login = "a LOGIN admin admin123\r\nb SELECT INBOX\r\n";
        await Robustness.SendGarbageAsync(endPoint,
        [
            "a LOGIN {999999999}\r\n"u8.ToArray(),
            "a LOGIN {5+}\r\nadmin {3}\r\n"u8.ToArray(),
            Encoding.UTF8.GetBytes("a LOGIN \0" + "0\0 \0" + "7\0\r\n"),
            Encoding.UTF8.GetBytes("a LOGIN \"unterminated\r\n* BAD\r\n+ x\r\n" + new string('(', 4000) + "\r\n"),
            "a AUTHENTICATE PLAIN\r\n!!!notbase64\r\na AUTHENTICATE LOGIN\r\nYWRtaW4=\r\n*\r\na AUTHENTICATE GSSAPI\r\n"u8.ToArray(),
            Encoding.UTF8.GetBytes(login + "c FETCH 1:4294967296,*:*,0 (BODY[HEADER.FIELDS (FROM] BODY[]<999999999.5> BODY.PEEK[TEXT]<3.2>)\r\nd FETCH x ALL\r\ne UID FETCH 1:* (FLAGS\r\nf FETCH 2 (" + string.Concat(Enumerable.Repeat("FLAGS ", 100)) + ")\r\n"),
            Encoding.UTF8.GetBytes(login + "c UID\r\nd SEARCH SUBJECT\r\ne STATUS INBOX (MESSAGES UNSEEN BOGUS\r\nf LIST \"\" \"" + new string('*', 3000) + "a\"\r\ng IDLE\r\nnot done\r\n"),
            Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 40).Select(i => $"t{i} BOGUS\r\n"))),
            Encoding.UTF8.GetBytes("a STARTTLS\r\nb LOGIN injected after starttls\r\n"),
        ]);

        // An APPEND with a non-synchronising literal, waited for to its tagged answer.
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(endPoint);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes(login + "c APPEND INBOX (\\Seen) {20+}\r\nSubject: x\r\n\r\nbody\r\n\r\nd LOGOUT\r\n"));
            var reply = await new StreamReader(stream).ReadToEndAsync();
            Assert.Contains("c OK [APPENDUID ", reply, StringComparison.Ordinal);
        }
        var message = await Curl("-u", "admin:admin123", $"imap://{decky.Address}/INBOX;UID=5");
        Assert.True(message.ExitCode == 0, message.StdErr);
        Assert.Contains("sk_live_", message.StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "data pipelined after STARTTLS");
        await decky.Sink.WaitForAsync("append", e => e.Field("subject") == "x");
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_both_ports_as_dovecot_imapd()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new ImapHoneypotFactory());
        var output = await DataFamilyKit.NmapVersionScanAsync(decky, 143, 993);
        DataFamilyKit.AssertNmapLine(output, @"143/tcp\s+open\s+imap\s+Dovecot imapd");
        DataFamilyKit.AssertNmapLine(output, @"993/tcp\s+open\s+ssl/imap\s+Dovecot imapd");
    }
}

public sealed class Pop3HoneypotTests
{
    private static Task<RealClient.Result> Curl(params string[] args) =>
        RealClient.RunAsync("curl", ["-s", "-S", "--max-time", "20", .. args]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Curl_lists_and_retrieves_bait_mail_and_a_deleted_message_comes_back_next_session()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new Pop3HoneypotFactory());

        var list = await Curl("-u", "admin:admin123", $"pop3://{decky.Address}/");
        Assert.True(list.ExitCode == 0, list.StdErr);
        var lines = list.StdOut.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.StartsWith("1 ", lines[0], StringComparison.Ordinal);

        var retr = await Curl("-u", "admin:admin123", $"pop3://{decky.Address}/2");
        Assert.Contains("Subject: prod database credentials (do not forward)", retr.StdOut, StringComparison.Ordinal);
        Assert.Contains("user: app_admin", retr.StdOut, StringComparison.Ordinal);

        var dele = await Curl("-u", "admin:admin123", "-X", "DELE", "-I", $"pop3://{decky.Address}/2");
        Assert.True(dele.ExitCode == 0, dele.StdErr);
        var again = await Curl("-u", "admin:admin123", $"pop3://{decky.Address}/2");
        Assert.Contains("user: app_admin", again.StdOut, StringComparison.Ordinal);

        var read = await decky.Sink.WaitForAsync("retr");
        Assert.Equal("2", read.Field("message"));
        Assert.Equal("prod database credentials (do not forward)", read.Field("subject"));
        Assert.Equal("admin", read.Field("username"));
        Assert.Equal("2", (await decky.Sink.WaitForAsync("delete")).Field("message"));
        Assert.Equal("PLAIN", (await decky.Sink.WaitForAsync("auth")).Field("mechanism"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Hydra_user_pass_guesses_are_captured_as_credential_bounties_and_the_right_one_gets_in()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new Pop3HoneypotFactory());
        var words = Path.Combine(decky.Root, "words.txt");
        await File.WriteAllLinesAsync(words, ["root", "toor", "admin"]);

        var hydra = await RealClient.RunAsync("hydra", ["-l", "root", "-P", words, "-t", "1", "-f", $"pop3://{decky.Address}"], timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("login: root   password: toor", hydra.StdOut, StringComparison.Ordinal);

        var failed = await decky.Sink.WaitForAsync("auth", e => e.Field("password") == "root");
        // hydra takes the SASL mechanism the capabilities offer, or USER/PASS.
        Assert.Contains(failed.Field("mechanism"), (string[])["USER", "LOGIN", "PLAIN"]);
        Assert.Equal("failed", failed.Field("status"));
        var bounty = DataFamilyKit.CredentialOf(failed);
        Assert.Equal("root", bounty["username"]);
        Assert.Equal("root", bounty["password"]);
        await decky.Sink.WaitForAsync("auth", e => e.Field("password") == "toor" && e.Field("status") == "success");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Stls_on_110_and_implicit_tls_on_995_protect_the_login_and_a_wrong_password_is_refused()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new Pop3HoneypotFactory());

        var upgraded = await Curl("-k", "--ssl-reqd", "-u", "user:user", $"pop3://{decky.Address}/7");
        Assert.True(upgraded.ExitCode == 0, upgraded.StdErr);
        Assert.Contains("Subject: Nightly backup report", upgraded.StdOut, StringComparison.Ordinal);
        var implicitTls = await Curl("-k", "--login-options", "AUTH=LOGIN", "-u", "mail:wrong", $"pop3s://{decky.Address}/1");
        Assert.Equal(67, implicitTls.ExitCode);

        await decky.Sink.WaitForAsync("starttls");
        var failed = await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "mail");
        Assert.Equal("LOGIN", failed.Field("mechanism"));
        Assert.Equal("true", failed.Field("tls"));
        Assert.Equal("wrong", failed.Field("password"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_fault_no_session_and_curl_is_still_served()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new Pop3HoneypotFactory());
        var endPoint = hosted.EndPointOf("pop3", 110);
        await Robustness.SendGarbageAsync(endPoint,
        [
            "PASS nouser\r\nUSER\r\nPASS\r\nAUTH PLAIN !!!\r\nAUTH LOGIN\r\n*\r\nAUTH KERBEROS\r\nAPOP root 0123456789abcdef\r\n"u8.ToArray(),
            "USER admin\r\nPASS admin123\r\nRETR\r\nRETR 0\r\nRETR 99999999999999\r\nTOP 1\r\nTOP 1 -1\r\nTOP 1 999999\r\nLIST x\r\nUIDL 11\r\nDELE 1\r\nDELE 1\r\nRSET\r\nSTAT\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes("USER " + new string('A', 20_000) + "\r\n"),
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("BOGUS\r\n", 30))),
            "STLS\r\nUSER injected\r\n"u8.ToArray(),
        ]);

        var message = await Curl("-u", "admin:admin123", $"pop3://{decky.Address}/1");
        Assert.True(message.ExitCode == 0, message.StdErr);
        Assert.Contains("AKIA", message.StdOut, StringComparison.Ordinal);
        Assert.Contains(decky.Sink.OfType("protocol_error"), e => e.Field("error") == "line too long");
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_both_ports_as_dovecot_pop3d()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new Pop3HoneypotFactory());
        var output = await DataFamilyKit.NmapVersionScanAsync(decky, 110, 995);
        DataFamilyKit.AssertNmapLine(output, @"110/tcp\s+open\s+pop3\s+Dovecot pop3d");
        DataFamilyKit.AssertNmapLine(output, @"995/tcp\s+open\s+ssl/pop3\s+Dovecot pop3d");
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void The_bait_mailbox_is_the_same_for_a_decky_and_different_between_deckies()
    {
        var first = MailBait.For("mail01.acme.io", "acme.io");
        Assert.Equal(first.Select(m => m.Text), MailBait.For("mail01.acme.io", "acme.io").Select(m => m.Text));
        Assert.NotEqual(first[0].Text, MailBait.For("mail02.acme.io", "acme.io")[0].Text);
        Assert.Equal(10, first.Count);
        Assert.All(first, m => Assert.Contains("\r\n\r\n", m.Text, StringComparison.Ordinal));
        Assert.Equal("acme.io", MailBait.DomainOf("mail01.acme.io", null));
        Assert.Equal("corp-mail.net", MailBait.DomainOf("SRV-MAIL-12", null));
    }
}
