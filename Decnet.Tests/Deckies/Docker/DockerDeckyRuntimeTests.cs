using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Decnet.Tests.Deckies.Docker;

/// <summary>
/// The Docker runtime against a real engine: macvlan on a test bridge, the host reaching deckies through
/// the shim, OS sysctls, container logs, degraded state, replace semantics and a teardown that leaves nothing.
/// </summary>
[Trait("Category", "Integration")]
[Collection(DockerEngineCollection.Name)]
public sealed class DockerDeckyRuntimeTests(DockerEngineFixture engine)
{
    private const string WindowsIp = "10.213.7.20";
    private const string LinuxIp = "10.213.7.21";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static DeckyConfig Redis(string name = "dnt-db1", string ip = WindowsIp) => new()
    {
        Name = name,
        Ip = ip,
        Hostname = "SQL-PROD-01",
        Services = ["redis"],
        NmapOs = OsProfiles.WindowsSlug,
        ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["redis"] = new Dictionary<string, string> { ["version"] = "7.0.15" },
        },
    };

    private static DeckyConfig Web(string name = "dnt-web1", string ip = LinuxIp, params string[] services) => new()
    {
        Name = name,
        Ip = ip,
        Hostname = "www-01",
        Services = services.Length > 0 ? services : ["http"],
        NmapOs = OsProfiles.LinuxSlug,
        ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["http"] = new Dictionary<string, string> { ["server_header"] = "nginx/1.18.0 (dnt)", ["response_code"] = "200" },
        },
    };

    private static DecnetConfig Deployment(params DeckyConfig[] deckies) => new()
    {
        Interface = DockerEngineFixture.Bridge,
        Subnet = DockerEngineFixture.Subnet,
        Gateway = DockerEngineFixture.Gateway,
        Deckies = deckies,
    };

    [Fact]
    public async Task Two_deckies_are_reachable_through_the_shim_with_their_os_sysctls_and_events_in_the_logs()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();

        var deployed = await runtime.DeployAsync(Deployment(Redis(), Web()), Token);

        Assert.All(deployed.Deckies, d => Assert.Equal(DeckyRunState.Running, d.State));
        Assert.Equal("+PONG", await RedisPingAsync(WindowsIp));
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            var response = await RetryAsync(() => http.GetAsync($"http://{LinuxIp}/", Token));
            // The persona travelled from service_config through DECNET_PERSONA_JSON into the container.
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("nginx/1.18.0 (dnt)", string.Join(" ", response.Headers.GetValues("Server")));
        }

        var windowsBase = await ContainerAsync("dnt-db1", DockerLabels.BaseRole);
        Assert.Equal("128", await ExecAsync(windowsBase.ID, "cat", "/proc/sys/net/ipv4/ip_default_ttl"));
        Assert.Equal("2", await ExecAsync(windowsBase.ID, "cat", "/proc/sys/net/ipv4/tcp_syn_retries"));
        Assert.Equal("SQL-PROD-01", await ExecAsync(windowsBase.ID, "hostname"));
        var linuxBase = await ContainerAsync("dnt-web1", DockerLabels.BaseRole);
        Assert.Equal("64", await ExecAsync(linuxBase.ID, "cat", "/proc/sys/net/ipv4/ip_default_ttl"));

        var redisContainer = await ContainerAsync("dnt-db1", DockerLabels.ServiceRole, "redis");
        var logs = await WaitForAsync(
            () => LogsAsync(redisContainer.ID),
            text => text.Contains("cmd=\"PING\"", StringComparison.Ordinal));
        Assert.Matches(new Regex(@"^<\d+>1 \S+ dnt-db1 redis - command \[relay@55555 ", RegexOptions.Multiline), logs);
        var httpContainer = await ContainerAsync("dnt-web1", DockerLabels.ServiceRole, "http");
        Assert.Contains(" dnt-web1 http - ", await WaitForAsync(() => LogsAsync(httpContainer.ID), text => text.Contains(" dnt-web1 http - ", StringComparison.Ordinal)), StringComparison.Ordinal);

        var status = await runtime.GetStatusAsync(Token);
        var db = Assert.IsType<DeckyStatus>(status.Find("dnt-db1"));
        Assert.Equal(DeckyRunState.Running, db.State);
        Assert.Equal(["10.213.7.20:6379/tcp"], Assert.Single(db.Services).Endpoints);
        Assert.Equal(Redis(), db.Config);

        // A runtime that deployed nothing (a restarted master or agent) finds the same deckies by label alone.
        using var restarted = engine.CreateRuntime();
        var rediscovered = await restarted.GetStatusAsync(Token);
        Assert.Equal(["dnt-db1", "dnt-web1"], rediscovered.Deckies.Select(d => d.Name));
        Assert.Equal(Web(), rediscovered.Find("dnt-web1")!.Config);
        Assert.All(rediscovered.Deckies, d => Assert.Equal(DeckyRunState.Running, d.State));
    }

    [Fact]
    public async Task An_ssh_session_in_a_container_is_recorded_in_the_masters_data_folder_and_the_host_key_survives_a_redeploy()
    {
        engine.RequireEngine();
        var data = Directory.CreateTempSubdirectory("dnt-data-");
        try
        {
            using var runtime = engine.CreateRuntime(o => o.HostDataDirectory = data.FullName);
            var gate = Web("dnt-ssh1", LinuxIp, "ssh");
            await runtime.DeployAsync(Deployment(gate), Token);

            // An interactive shell (a pty), which is what gets recorded.
            var shell = await RetryAsync(async () =>
            {
                var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("sshpass", ["-p", "admin", "ssh", "-tt", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", $"root@{LinuxIp}"], "echo recorded-in-docker\nexit\n");
                return run.ExitCode == 255 ? throw new IOException(run.Stderr) : run;
            });
            Assert.True(shell.ExitCode == 0, shell.Stderr);

            // The recording and the host key are in <data>/deckies/<decky>/<service>, where the master reads them.
            var folder = Path.Combine(data.FullName, "deckies", "dnt-ssh1", "ssh");
            var recording = await WaitForAsync(
                () => Task.FromResult(Directory.Exists(Path.Combine(folder, "recordings")) ? Directory.GetFiles(Path.Combine(folder, "recordings"), "*.cast") : []),
                files => files.Any(f => File.ReadAllText(f).Contains("recorded-in-docker", StringComparison.Ordinal)));
            Assert.NotEmpty(recording);
            Assert.True(Directory.Exists(Path.Combine(data.FullName, "artifacts", "dnt-ssh1", "ssh")));
            var keysBefore = Directory.GetFiles(folder, "*key*").Select(File.ReadAllBytes).ToList();
            Assert.NotEmpty(keysBefore);

            // A redeploy makes new containers; the decky still presents the same SSH host key.
            await runtime.TeardownAsync(null, Token);
            await runtime.DeployAsync(Deployment(gate), Token);
            var again = await RetryAsync(async () =>
            {
                var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("sshpass", ["-p", "admin", "ssh", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", $"root@{LinuxIp}", "true"]);
                return run.ExitCode == 255 ? throw new IOException(run.Stderr) : run;
            });
            Assert.True(again.ExitCode == 0, again.Stderr);
            Assert.Equal(keysBefore, Directory.GetFiles(folder, "*key*").Select(File.ReadAllBytes).ToList());
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Database_mail_and_snmp_services_answer_real_clients_from_their_containers()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();
        var decky = new DeckyConfig
        {
            Name = "dnt-data1",
            Ip = LinuxIp,
            Hostname = "PRN-FLOOR2",
            Services = ["postgres", "mongodb", "elasticsearch", "imap", "pop3", "snmp"],
            NmapOs = OsProfiles.EmbeddedSlug,
            Archetype = "printer",
            ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["postgres"] = new Dictionary<string, string> { ["auth"] = "password" },
            },
        };
        var deployed = await runtime.DeployAsync(Deployment(decky), Token);
        Assert.Equal(DeckyRunState.Running, Assert.Single(deployed.Deckies).State);

        var psql = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("psql", [$"host={LinuxIp} user=dba dbname=postgres connect_timeout=5", "-c", "select 1"],
                environment: new Dictionary<string, string> { ["PGPASSWORD"] = "in-a-container" });
            return run.Stderr.Contains("password authentication failed", StringComparison.Ordinal) ? run : throw new IOException(run.Stderr);
        });
        Assert.Contains("password authentication failed for user \"dba\"", psql.Stderr, StringComparison.Ordinal);

        var settings = MongoDB.Driver.MongoClientSettings.FromConnectionString($"mongodb://{LinuxIp}:27017/?directConnection=true");
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(20);
        using (var mongo = new MongoDB.Driver.MongoClient(settings))
        {
            var names = await RetryAsync(async () => await MongoDB.Driver.IAsyncCursorExtensions.ToListAsync(await mongo.ListDatabaseNamesAsync(Token), Token));
            Assert.Contains("shop_config", names);
        }

        var banner = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("curl", ["-s", "--max-time", "5", $"http://{LinuxIp}:9200/"]);
            return run.ExitCode == 0 ? run : throw new IOException(run.Stderr);
        });
        Assert.Contains("\"tagline\" : \"You Know, for Search\"", banner.Stdout, StringComparison.Ordinal);

        // 993 is implicit TLS inside the container too: the declared port travels with the connection.
        var imaps = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("curl", ["-s", "-k", "--max-time", "10", "-u", "admin:admin123", $"imaps://{LinuxIp}/INBOX;UID=1"]);
            return run.ExitCode == 0 ? run : throw new IOException(run.Stderr);
        });
        Assert.Contains("Subject: Your AWS access keys", imaps.Stdout, StringComparison.Ordinal);
        var pop3 = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("curl", ["-s", "--max-time", "10", "-u", "root:toor", $"pop3://{LinuxIp}/"]);
        Assert.Equal(10, pop3.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);

        // The printer archetype and embedded OS reached the SNMP agent through the container's environment.
        var snmp = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("snmpget", ["-On", "-t", "2", "-r", "2", "-v2c", "-c", "public", LinuxIp, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0"]);
            return run.ExitCode == 0 ? run : throw new IOException(run.Stderr);
        });
        Assert.Contains("HP ETHERNET MULTI-ENVIRONMENT", snmp.Stdout, StringComparison.Ordinal);
        Assert.Contains("STRING: \"PRN-FLOOR2\"", snmp.Stdout, StringComparison.Ordinal);

        var postgresContainer = await ContainerAsync("dnt-data1", DockerLabels.ServiceRole, "postgres");
        var postgresLogs = await WaitForAsync(
            () => LogsAsync(postgresContainer.ID),
            text => text.Contains("password=\"in-a-container\"", StringComparison.Ordinal));
        Assert.Matches(new Regex(@"^<\d+>1 \S+ dnt-data1 postgres - auth \[relay@55555 ", RegexOptions.Multiline), postgresLogs);
        var snmpContainer = await ContainerAsync("dnt-data1", DockerLabels.ServiceRole, "snmp");
        var snmpLogs = await WaitForAsync(
            () => LogsAsync(snmpContainer.ID),
            text => text.Contains("community=\"public\"", StringComparison.Ordinal));
        Assert.Contains(" dnt-data1 snmp - get_request ", snmpLogs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Windows_family_services_answer_real_clients_from_their_containers()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();
        var decky = new DeckyConfig
        {
            Name = "dnt-dc1",
            Ip = WindowsIp,
            Hostname = "DC01",
            Services = ["smb", "ldap", "mssql", "rdp", "vnc", "llmnr"],
            NmapOs = OsProfiles.WindowsSlug,
            Archetype = "domain-controller",
            ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["smb"] = new Dictionary<string, string> { ["domain"] = "acme.local" },
                ["ldap"] = new Dictionary<string, string> { ["domain"] = "acme.local" },
                ["llmnr"] = new Dictionary<string, string> { ["domain"] = "acme.local" },
            },
        };
        var deployed = await runtime.DeployAsync(Deployment(decky), Token);
        Assert.Equal(DeckyRunState.Running, Assert.Single(deployed.Deckies).State);

        var shares = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("smbclient", ["-L", $"//{WindowsIp}", "-U", "ACME\\bob%Winter2026!", "--option=client min protocol=SMB2"]);
            return run.Stdout.Contains("Disk", StringComparison.Ordinal) ? run : throw new IOException(run.Stdout + run.Stderr);
        });
        Assert.Matches(@"Shared\s+Disk\s+Department files", shares.Stdout);

        var rootDse = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("ldapsearch", ["-x", "-H", $"ldap://{WindowsIp}", "-s", "base", "-b", "", "defaultNamingContext", "dnsHostName"]);
            return run.ExitCode == 0 ? run : throw new IOException(run.Stderr);
        });
        Assert.Contains("defaultNamingContext: DC=acme,DC=local", rootDse.Stdout, StringComparison.Ordinal);

        var tsql = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("tsql", ["-H", WindowsIp, "-p", "1433", "-U", "sa", "-P", "in-a-container"], stdin: "quit\n");
            return (run.Stdout + run.Stderr).Contains("Login failed", StringComparison.Ordinal) ? run : throw new IOException(run.Stdout + run.Stderr);
        });
        Assert.Contains("Login failed for user 'sa'", tsql.Stdout + tsql.Stderr, StringComparison.Ordinal);

        // RDP: an X.224 connection request offering TLS and NLA is confirmed with NLA (PROTOCOL_HYBRID) chosen.
        var confirm = await RetryAsync(async () =>
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(WindowsIp, 3389, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(new byte[] { 3, 0, 0, 19, 14, 0xE0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0 }, timeout.Token);
            var answer = new byte[19];
            await stream.ReadExactlyAsync(answer, timeout.Token);
            return answer;
        });
        Assert.Equal(0xD0, confirm[5]);
        Assert.Equal(2, confirm[11]);
        Assert.Equal(2, confirm[15]);

        var rfb = await RetryAsync(async () =>
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(WindowsIp, 5900, timeout.Token);
            var banner = new byte[12];
            await client.GetStream().ReadExactlyAsync(banner, timeout.Token);
            return Encoding.ASCII.GetString(banner);
        });
        Assert.Equal("RFB 003.008\n", rfb);

        // NetBIOS node status over UDP 137 in the decky's namespace: the decky's name and the domain.
        var status = await RetryAsync(async () =>
        {
            var run = await Decnet.Tests.Honeypots.ClientProcess.RunAsync("nmblookup", ["-A", WindowsIp]);
            return run.Stdout.Contains("<00>", StringComparison.Ordinal) ? run : throw new IOException(run.Stdout + run.Stderr);
        });
        Assert.Matches(@"DC01\s+<00> -\s+M <ACTIVE>", status.Stdout);
        Assert.Matches(@"ACME\s+<00> - <GROUP> M <ACTIVE>", status.Stdout);

        var smbLogs = await WaitForAsync(
            async () => await LogsAsync((await ContainerAsync("dnt-dc1", DockerLabels.ServiceRole, "smb")).ID),
            text => text.Contains(" dnt-dc1 smb - auth ", StringComparison.Ordinal));
        Assert.Matches(new Regex(@" dnt-dc1 smb - auth \[relay@55555 [^\n]*username=""bob""[^\n]*hash=""bob::ACME:[0-9a-f]{16}:[0-9a-f]{32}:[0-9a-f]+"""), smbLogs);
        var mssqlLogs = await WaitForAsync(
            async () => await LogsAsync((await ContainerAsync("dnt-dc1", DockerLabels.ServiceRole, "mssql")).ID),
            text => text.Contains("password=\"in-a-container\"", StringComparison.Ordinal));
        Assert.Contains(" dnt-dc1 mssql - auth ", mssqlLogs, StringComparison.Ordinal);
        var nameLogs = await WaitForAsync(
            async () => await LogsAsync((await ContainerAsync("dnt-dc1", DockerLabels.ServiceRole, "llmnr")).ID),
            text => text.Contains(" dnt-dc1 llmnr - query ", StringComparison.Ordinal));
        Assert.Contains("proto=\"nbns\"", nameLogs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_killed_service_container_leaves_its_decky_degraded_and_a_mutation_restarts_it()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();
        await runtime.DeployAsync(Deployment(Web(services: ["http", "redis"])), Token);
        Assert.Equal("+PONG", await RedisPingAsync(LinuxIp));

        var http = await ContainerAsync("dnt-web1", DockerLabels.ServiceRole, "http");
        await engine.Client.Containers.KillContainerAsync(http.ID, new ContainerKillParameters(), Token);

        var decky = await WaitForAsync(
            async () => (await runtime.GetStatusAsync(Token)).Find("dnt-web1")!,
            d => d.State == DeckyRunState.Degraded);
        var killed = decky.Services.Single(s => s.Service == "http");
        Assert.Equal(ServiceRunState.Exited, killed.State);
        Assert.Contains("Exited", killed.Error, StringComparison.Ordinal);
        Assert.Equal(ServiceRunState.Running, decky.Services.Single(s => s.Service == "redis").State);

        // A mutation restarts the decky with its new service set; the old service's container is gone.
        var mutated = await runtime.ApplyAsync(Web(services: ["redis"]), Token);
        Assert.Equal(DeckyRunState.Running, mutated.State);
        Assert.Equal(["redis"], mutated.Services.Select(s => s.Service));
        Assert.Empty(await engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = DockerLabels.Filter($"{DockerLabels.Decky}=dnt-web1", $"{DockerLabels.Service}=http"),
        }, Token));
        Assert.Equal("+PONG", await RedisPingAsync(LinuxIp));
    }

    [Fact]
    public async Task A_missing_image_fails_only_that_service_and_status_keeps_the_reason()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime(o => o.ServiceImages["http"] = "decnet/not-built:none");

        var deployed = await runtime.DeployAsync(Deployment(Web(services: ["http", "redis"])), Token);

        var decky = Assert.Single(deployed.Deckies);
        Assert.Equal(DeckyRunState.Degraded, decky.State);
        var http = decky.Services.Single(s => s.Service == "http");
        Assert.Equal(ServiceRunState.Failed, http.State);
        Assert.Contains("No such image", http.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("+PONG", await RedisPingAsync(LinuxIp));
        var status = (await runtime.GetStatusAsync(Token)).Find("dnt-web1")!;
        Assert.Equal(ServiceRunState.Failed, status.Services.Single(s => s.Service == "http").State);
        Assert.Equal(DeckyRunState.Degraded, status.State);
    }

    [Fact]
    public async Task Redeploying_replaces_the_set_and_teardown_leaves_no_container_network_or_shim()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();
        await runtime.DeployAsync(Deployment(Redis(), Web()), Token);
        Assert.NotEmpty(await LabelledAsync("dnt-web1"));
        var network = await NetworkIdAsync();
        await runtime.DeployAsync(Deployment(Redis(), Web()), Token);
        Assert.Equal(network, await NetworkIdAsync());

        var redeployed = await runtime.DeployAsync(Deployment(Redis()), Token);

        // One decky left: ip_range shrinks to a /32, so the network is recreated rather than reused.
        Assert.NotEqual(network, await NetworkIdAsync());

        Assert.Equal(["dnt-db1"], redeployed.Deckies.Select(d => d.Name));
        Assert.Empty(await LabelledAsync("dnt-web1"));
        Assert.Equal(["dnt-db1"], (await runtime.GetStatusAsync(Token)).Deckies.Select(d => d.Name));
        Assert.Equal("+PONG", await RedisPingAsync(WindowsIp));

        await runtime.TeardownAsync("dnt-db1", Token);
        Assert.Empty(await LabelledAsync("dnt-db1"));
        Assert.True(await HostShim.ExistsAsync(DeckyNetworkPlan.MacvlanShimName, Token));

        await runtime.DeployAsync(Deployment(Redis(), Web()), Token);
        await runtime.TeardownAsync(null, Token);

        Assert.Empty(await LabelledAsync(null));
        var networks = await engine.Client.Networks.ListNetworksAsync(new NetworksListParameters(), Token);
        Assert.DoesNotContain(networks, n => n.Name == DeckyNetworkPlan.NetworkName);
        Assert.False(await HostShim.ExistsAsync(DeckyNetworkPlan.MacvlanShimName, Token));
        Assert.Empty((await runtime.GetStatusAsync(Token)).Deckies);
    }

    [Fact]
    public async Task A_new_runtime_adopts_exactly_the_running_deployment_without_restarting_a_container()
    {
        engine.RequireEngine();
        using (var first = engine.CreateRuntime())
        {
            await first.DeployAsync(Deployment(Redis(), Web()), Token);
        }
        var before = (await LabelledAsync(null)).Select(c => c.ID).Order(StringComparer.Ordinal).ToList();

        // Another process (a restarted agent) with another set, then with a changed snapshot: nothing to adopt.
        using (var other = engine.CreateRuntime())
        {
            Assert.Null(await other.AdoptAsync(Deployment(Redis()), Token));
            Assert.Null(await other.AdoptAsync(Deployment(Redis(), Web(services: ["http", "redis"])), Token));
        }
        // The same set under another setting (an updated image or limit): replaced, not adopted.
        using (var resized = engine.CreateRuntime(o => o.ServiceMemoryLimitMiB = 256))
        {
            Assert.Null(await resized.AdoptAsync(Deployment(Redis(), Web()), Token));
        }

        // The same set: adopted as it runs, every container kept, and the runtime drives it from there.
        using var restarted = engine.CreateRuntime();
        var adopted = await restarted.AdoptAsync(Deployment(Redis(), Web()), Token);

        Assert.NotNull(adopted);
        Assert.Equal(["dnt-db1", "dnt-web1"], adopted.Deckies.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.All(adopted.Deckies, d => Assert.Equal(DeckyRunState.Running, d.State));
        Assert.Equal(before, (await LabelledAsync(null)).Select(c => c.ID).Order(StringComparer.Ordinal));
        Assert.Equal("+PONG", await RedisPingAsync(WindowsIp));
        Assert.Null(await restarted.AdoptAsync(Deployment(Redis(), Web()), Token));
        var mutated = await restarted.ApplyAsync(Web(services: ["redis"]), Token);
        Assert.Equal(DeckyRunState.Running, mutated.State);

        // A stopped service is not "exactly what runs": the caller redeploys instead.
        var redis = await ContainerAsync("dnt-db1", DockerLabels.ServiceRole, "redis");
        await engine.Client.Containers.KillContainerAsync(redis.ID, new ContainerKillParameters(), Token);
        using var afterKill = engine.CreateRuntime();
        await WaitForAsync(async () => (await afterKill.GetStatusAsync(Token)).Find("dnt-db1")!, d => d.State != DeckyRunState.Running);
        Assert.Null(await afterKill.AdoptAsync(Deployment(Redis(), Web(services: ["redis"])), Token));
        await afterKill.TeardownAsync(null, Token);
    }

    [Fact]
    public async Task The_service_containers_artifact_quotas_add_up_to_at_most_the_hosts_total()
    {
        engine.RequireEngine();
        const long MiB = 1024 * 1024;
        using var runtime = engine.CreateRuntime(o =>
        {
            o.HoneypotLimits.Artifacts.MaxBytesPerDecky = 20 * MiB;
            o.HoneypotLimits.Artifacts.MaxBytesTotal = 30 * MiB;
        });
        async Task<long> QuotaOf(string decky, string service)
        {
            var container = await ContainerAsync(decky, DockerLabels.ServiceRole, service);
            var env = (await engine.Client.Containers.InspectContainerAsync(container.ID, Token)).Config!.Env;
            return long.Parse(env.Single(e => e.StartsWith("DECNET_ARTIFACTS_MAX_BYTES=", StringComparison.Ordinal)).Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        // Two deckies of 20 MiB each would be 40 MiB on a 30 MiB host: each gets half of the total.
        await runtime.DeployAsync(Deployment(Redis(), Web(services: ["http", "ftp"])), Token);
        Assert.Equal(15 * MiB, await QuotaOf("dnt-db1", "redis"));
        Assert.Equal((15 * MiB / 2, 15 * MiB / 2), (await QuotaOf("dnt-web1", "http"), await QuotaOf("dnt-web1", "ftp")));

        // A decky added to the running deployment gets what is left (nothing), a changed one keeps its part.
        await runtime.ApplyAsync(Redis("dnt-db2", "10.213.7.22"), Token);
        Assert.Equal(0, await QuotaOf("dnt-db2", "redis"));
        await runtime.ApplyAsync(Web(services: ["http"]), Token);
        Assert.Equal(15 * MiB, await QuotaOf("dnt-web1", "http"));

        // Torn down, its part is free again for the next decky.
        await runtime.TeardownAsync("dnt-db1", Token);
        await runtime.ApplyAsync(Redis("dnt-db3", "10.213.7.23"), Token);
        Assert.Equal(15 * MiB, await QuotaOf("dnt-db3", "redis"));
        await runtime.TeardownAsync(null, Token);
    }

    [Fact]
    public async Task Containers_run_under_memory_and_pids_limits_that_the_kernel_enforces()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime(o => { o.ServiceMemoryLimitMiB = 192; o.ServicePidsLimit = 64; });
        await runtime.DeployAsync(Deployment(Redis()), Token);
        Assert.Equal("+PONG", await RedisPingAsync(WindowsIp));

        var service = await ContainerAsync("dnt-db1", DockerLabels.ServiceRole, "redis");
        var serviceConfig = (await engine.Client.Containers.InspectContainerAsync(service.ID, Token)).HostConfig!;
        Assert.Equal((192L * 1024 * 1024, 192L * 1024 * 1024, 64L), (serviceConfig.Memory, serviceConfig.MemorySwap, serviceConfig.PidsLimit ?? 0));
        var baseContainer = await ContainerAsync("dnt-db1", DockerLabels.BaseRole);
        var baseConfig = (await engine.Client.Containers.InspectContainerAsync(baseContainer.ID, Token)).HostConfig!;
        var defaults = new DockerRuntimeOptions();
        Assert.Equal((defaults.BaseMemoryLimitMiB * 1024L * 1024, (long)defaults.BasePidsLimit), (baseConfig.Memory, baseConfig.PidsLimit ?? 0));
        // The engine wrote the limits into the containers' cgroups, where the kernel applies them.
        var baseLimit = await ExecWithErrorAsync(baseContainer.ID, "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes");
        Assert.Equal((defaults.BaseMemoryLimitMiB * 1024L * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), baseLimit.Stdout);
        var pidsMax = await ExecWithErrorAsync(service.ID, "sh", "-c", "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max");
        Assert.Equal("64", pidsMax.Stdout);

        // A process growing past the memory limit is killed by the kernel (SIGKILL, 128 + 9), not the host.
        var hog = await ExecWithErrorAsync(service.ID, "sh", "-c", "head -c 600m /dev/zero | tail -n 1 >/dev/null; echo $?");
        Assert.True(hog.Stdout == "137", $"exit {hog.Stdout}: {hog.Stderr}");

        // A fork flood inside the service container stops at the pids limit (the agent's threads count too).
        var flood = await ExecWithErrorAsync(service.ID, "sh", "-c", "i=0; while [ $i -lt 300 ]; do sleep 2 & i=$((i+1)); echo $i; done");
        var started = int.Parse(flood.Stdout.Split('\n')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(started, 1, 63);
        Assert.Contains("fork", flood.Stderr, StringComparison.OrdinalIgnoreCase);

        // The honeypot itself is still there and serving.
        await Task.Delay(TimeSpan.FromSeconds(5), Token);
        Assert.Equal("+PONG", await RedisPingAsync(WindowsIp));
    }

    [Fact]
    public async Task The_docker_probe_reports_the_engine()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();

        var result = await new DockerProbe(runtime).ProbeAsync(Token);

        Assert.Equal(Decnet.Core.Health.ProbeStatus.Ok, result.Status);
        Assert.Contains("API", result.Detail, StringComparison.Ordinal);
        using var unreachable = new DockerDeckyRuntime(
            new DockerRuntimeOptions { Endpoint = "unix:///tmp/dnt-no-engine.sock", MaxRetryAttempts = 0, RequestTimeout = TimeSpan.FromSeconds(3) },
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        Assert.Equal(Decnet.Core.Health.ProbeStatus.Failing, (await new DockerProbe(unreachable).ProbeAsync(Token)).Status);
    }

    private async Task<string?> NetworkIdAsync() =>
        (await engine.Client.Networks.ListNetworksAsync(new NetworksListParameters(), Token))
            .SingleOrDefault(n => n.Name == DeckyNetworkPlan.NetworkName)?.ID;

    private async Task<IList<ContainerListResponse>> LabelledAsync(string? decky) =>
        await engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = decky is null ? DockerLabels.ManagedFilter() : DockerLabels.DeckyFilter(decky),
        }, Token);

    private async Task<ContainerListResponse> ContainerAsync(string decky, string role, string? service = null)
    {
        var labels = new List<string> { $"{DockerLabels.Managed}=true", $"{DockerLabels.Decky}={decky}", $"{DockerLabels.Role}={role}" };
        if (service is not null)
        {
            labels.Add($"{DockerLabels.Service}={service}");
        }
        var found = await engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = DockerLabels.Filter([.. labels]) }, Token);
        return Assert.Single(found);
    }

    private async Task<string> ExecAsync(string containerId, params string[] command)
    {
        var exec = await engine.Client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = command,
            AttachStdout = true,
            AttachStderr = true,
        }, Token);
        using var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Token);
        var (stdout, _) = await stream.ReadOutputToEndAsync(Token);
        return stdout.Trim();
    }

    private async Task<(string Stdout, string Stderr)> ExecWithErrorAsync(string containerId, params string[] command)
    {
        var exec = await engine.Client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = command,
            AttachStdout = true,
            AttachStderr = true,
        }, Token);
        using var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Token);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(Token);
        return (stdout.Trim(), stderr.Trim());
    }

    private async Task<string> LogsAsync(string containerId)
    {
        using var stream = await engine.Client.Containers.GetContainerLogsAsync(containerId, new ContainerLogsParameters { ShowStdout = true, ShowStderr = false }, Token);
        var (stdout, _) = await stream.ReadOutputToEndAsync(Token);
        return stdout;
    }

    /// <summary>A RESP PING over a plain TCP connection from the host to the decky IP (through the shim).</summary>
    private static Task<string> RedisPingAsync(string ip) => RetryAsync(async () =>
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(ip, 6379, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), timeout.Token);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read).Trim();
    });

    // Containers need a moment after start before the agent listens.
    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when ((ex is SocketException or IOException or HttpRequestException or OperationCanceledException) && DateTime.UtcNow < deadline && !Token.IsCancellationRequested)
            {
                await Task.Delay(300, Token);
            }
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var value = await read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300, Token);
            value = await read();
        }
        Assert.True(done(value), $"Condition not met within 30 s; last value: {value}");
        return value;
    }
}
