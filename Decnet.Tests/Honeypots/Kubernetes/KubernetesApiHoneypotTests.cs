using System.Text;
using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Kubernetes;

namespace Decnet.Tests.Honeypots.Kubernetes;

[Trait("Category", "Integration")]
public sealed class KubernetesApiHoneypotTests
{
    // A service-account token as stolen from a pod: header.payload.signature, sub = system:serviceaccount:kube-system:default.
    private static readonly string Token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRudCJ9."
        + Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"iss\":\"kubernetes/serviceaccount\",\"sub\":\"system:serviceaccount:kube-system:default\"}")).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        + ".c2lnbmF0dXJl";

    private static Task<RealClient.Result> Curl(params string[] args) => RealClient.RunAsync("curl", ["-sk", "--max-time", "20", .. args]);

    [Fact]
    public async Task Anonymous_curl_reads_the_version_and_bait_secrets_on_both_ports()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new KubernetesApiHoneypotFactory());

        var version = JsonDocument.Parse((await Curl($"https://{decky.Address}:6443/version")).StdOut).RootElement;
        Assert.Equal("v1.28.4", version.GetProperty("gitVersion").GetString());

        var secrets = JsonDocument.Parse((await Curl($"http://{decky.Address}:8080/api/v1/secrets")).StdOut).RootElement;
        Assert.Equal("SecretList", secrets.GetProperty("kind").GetString());
        var postgres = secrets.GetProperty("items").EnumerateArray().Single(s => s.GetProperty("metadata").GetProperty("name").GetString() == "postgres-credentials");
        Assert.Equal("Ord3rs!Pg-2023", Encoding.UTF8.GetString(Convert.FromBase64String(postgres.GetProperty("data").GetProperty("password").GetString()!)));

        var namespaces = JsonDocument.Parse((await Curl($"https://{decky.Address}:6443/api/v1/namespaces")).StdOut).RootElement;
        Assert.Contains("production", namespaces.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("metadata").GetProperty("name").GetString()));
        var missing = JsonDocument.Parse((await Curl($"https://{decky.Address}:6443/api/v1/namespaces/production/pods/nope")).StdOut).RootElement;
        Assert.Equal(404, missing.GetProperty("code").GetInt32());

        await decky.Sink.WaitForAsync("tls_session");
        var request = await decky.Sink.WaitForAsync("request", e => e.Field("path") == "/api/v1/secrets");
        Assert.StartsWith("curl/", request.Field("user_agent"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bearer_token_is_captured_as_a_credential_with_its_service_account()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new KubernetesApiHoneypotFactory());

        var pods = await Curl("-H", $"Authorization: Bearer {Token}", $"https://{decky.Address}:6443/api/v1/namespaces/production/pods");
        Assert.Contains("orders-api-7d9c6b5f8-x2k4p", pods.StdOut, StringComparison.Ordinal);

        var attempt = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("bearer", attempt.Field("method"));
        Assert.Equal(Token, attempt.Field("token"));
        Assert.Equal("system:serviceaccount:kube-system:default", attempt.Field("username"));
        var bounty = Assert.Single(WireBounty.Of(attempt));
        Assert.Equal(BountyExtractor.Credential, bounty.BountyType);
        Assert.Equal(Token, WireBounty.Payload(bounty)["token"]);

        await Curl("-u", "admin:kube-admin!", $"https://{decky.Address}:6443/api/v1/nodes");
        var basic = await decky.Sink.WaitForAsync("auth_attempt", e => e.Field("method") == "basic");
        Assert.Equal("admin", basic.Field("username"));
        Assert.Equal("kube-admin!", basic.Field("password"));
    }

    [Fact]
    public async Task Privileged_host_path_pods_and_exec_attempts_are_recorded_as_intent()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new KubernetesApiHoneypotFactory());
        var pod = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"escape"},"spec":{"hostPID":true,"containers":[{"name":"x","image":"alpine:3.18",
            "command":["nsenter","-t","1","-m","-u","-i","-n","sh"],"securityContext":{"privileged":true},"volumeMounts":[{"name":"host","mountPath":"/host"}]}],
            "volumes":[{"name":"host","hostPath":{"path":"/"}}]}}
            """;

        var created = await Curl("-X", "POST", "-H", "Content-Type: application/json", "--data", pod, "-w", "\n%{http_code}", $"https://{decky.Address}:6443/api/v1/namespaces/default/pods");
        Assert.EndsWith("\n201", created.StdOut, StringComparison.Ordinal);
        Assert.Equal("Pending", JsonDocument.Parse(created.StdOut[..created.StdOut.LastIndexOf('\n')]).RootElement.GetProperty("status").GetProperty("phase").GetString());

        var intent = await decky.Sink.WaitForAsync("resource_create");
        Assert.Equal("Pod", intent.Field("kind"));
        Assert.Equal("escape", intent.Field("name"));
        Assert.Equal("[\"alpine:3.18\"]", intent.Field("images"));
        Assert.Equal("[\"/\"]", intent.Field("host_paths"));
        Assert.Equal("true", intent.Field("privileged"));
        Assert.Equal("true", intent.Field("host_pid"));
        Assert.Contains("nsenter", intent.Field("commands"), StringComparison.Ordinal);

        var exec = await Curl("-X", "POST", $"https://{decky.Address}:6443/api/v1/namespaces/production/pods/postgres-0/exec?command=cat&command=%2Fetc%2Fshadow&container=postgres");
        Assert.Contains("Upgrade request required", exec.StdOut, StringComparison.Ordinal);
        var attempt = await decky.Sink.WaitForAsync("exec_attempt");
        Assert.Equal("[\"cat\",\"/etc/shadow\"]", attempt.Field("command"));
        Assert.Equal("postgres-0", attempt.Field("pod"));
    }

    [Fact]
    public async Task Without_anonymous_access_rbac_refuses_anonymous_callers_but_a_token_gets_in()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new KubernetesApiHoneypotFactory(), new Dictionary<string, string> { ["anonymous"] = "false" });

        var anonymous = JsonDocument.Parse((await Curl($"https://{decky.Address}:6443/api/v1/secrets")).StdOut).RootElement;
        Assert.Equal(403, anonymous.GetProperty("code").GetInt32());
        Assert.Contains("system:anonymous", anonymous.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("v1.28.4", (await Curl($"https://{decky.Address}:6443/version")).StdOut, StringComparison.Ordinal);
        var withToken = await Curl("-H", $"Authorization: Bearer {Token}", $"https://{decky.Address}:6443/api/v1/secrets");
        Assert.Contains("aws-s3-backup", withToken.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_lists_pods_across_namespaces_and_reads_a_secret()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new KubernetesApiHoneypotFactory());
        var kubeconfig = Path.Combine(decky.Root, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, string.Empty);
        var environment = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = decky.Root };
        string[] server = ["--server", $"https://{decky.Address}:6443", "--insecure-skip-tls-verify", "--token", Token, "--request-timeout", "20s"];

        var pods = await ClientProcess.RunAsync(RealClient.Require("kubectl"), [.. server, "get", "pods", "-A"], environment: environment);
        Assert.True(pods.ExitCode == 0, pods.Stderr);
        Assert.Matches(@"production\s+orders-api-7d9c6b5f8-x2k4p\s+1/1\s+Running\s+0\s+6d", pods.Stdout);
        Assert.Contains("kube-system", pods.Stdout, StringComparison.Ordinal);

        var secret = await ClientProcess.RunAsync(RealClient.Require("kubectl"), [.. server, "get", "secret", "grafana-admin", "-n", "monitoring", "-o", "jsonpath={.data.admin-password}"], environment: environment);
        Assert.True(secret.ExitCode == 0, secret.Stderr);
        Assert.Equal("Gr4fana!Mon", Encoding.UTF8.GetString(Convert.FromBase64String(secret.Stdout.Trim())));
        Assert.Contains(decky.Sink.OfType("request"), e => (e.Field("user_agent") ?? string.Empty).StartsWith("kubectl/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Garbage_and_mutated_requests_fault_nothing_and_curl_is_served_afterwards()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new KubernetesApiHoneypotFactory());

        await Robustness.SendGarbageAsync(hosted.EndPointOf("k8s", 8080),
        [
            "POST /api/v1/namespaces/x/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\n\r\n{\"spec\":{\"containers\":\"no\",\"volumes\":[1,2]}}"u8.ToArray(),
            "POST /apis/apps/v1/namespaces/x/deployments HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n[[[[[[[[[[[["u8.ToArray(),
            "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.!!!.c\r\n\r\n"u8.ToArray(),
            "GET /api/v1/nodes HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ****\r\n\r\n"u8.ToArray(),
            "DELETE /api/v1/namespaces/kube-system HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            "GET /apis/../../../../etc HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
        ]);
        await Robustness.SendGarbageAsync(hosted.EndPointOf("k8s", 6443), ["\u0016\u0003\u0001\u0000\u0005hello"u8.ToArray()], randomRounds: 5);

        Assert.Contains("gitVersion", (await Curl($"https://{decky.Address}:6443/version")).StdOut, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("resource_delete");
        WireBounty.AssertNoFaults(decky);
    }
}
