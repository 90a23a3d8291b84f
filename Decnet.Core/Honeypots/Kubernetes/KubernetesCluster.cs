using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Kubernetes;

/// <summary>One object of the bait cluster, with what the list tables show about it.</summary>
public sealed record KubeObject(string Kind, string Namespace, string Name, DateTimeOffset Created, IReadOnlyDictionary<string, object?> Body, IReadOnlyList<object?> Cells);

/// <summary>
/// The objects a misconfigured cluster shows an anonymous caller: namespaces, pods, secrets that hold
/// database passwords, cloud keys and a service-account token, config maps, nodes, deployments. Built per
/// decky with stable names and uids, so two visits see the same cluster.
/// </summary>
public sealed class KubernetesCluster
{
    public KubernetesCluster(string deckyName, string hostname, DateTimeOffset now)
    {
        Now = now;
        var node = hostname.Split('.')[0].ToLowerInvariant();
        var created = now.AddDays(-214);
        string Uid(string name) => new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("decnet-k8s:" + deckyName + ":" + name))[..16]).ToString();
        Dictionary<string, object?> Meta(string name, string? ns, DateTimeOffset at, Dictionary<string, string>? labels = null)
        {
            var meta = new Dictionary<string, object?>
            {
                ["name"] = name,
                ["uid"] = Uid((ns ?? "") + "/" + name),
                ["resourceVersion"] = (100_000 + Math.Abs(Uid(name).GetHashCode() % 800_000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["creationTimestamp"] = Timestamp(at),
            };
            if (ns is not null)
            {
                meta["namespace"] = ns;
            }
            if (labels is not null)
            {
                meta["labels"] = labels;
            }
            return meta;
        }
        static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

        var namespaces = new[] { ("default", 214), ("kube-system", 214), ("kube-public", 214), ("kube-node-lease", 214), ("production", 180), ("monitoring", 150), ("ci", 96) };
        foreach (var (name, age) in namespaces)
        {
            var at = now.AddDays(-age);
            Add(new KubeObject("Namespace", string.Empty, name, at, new Dictionary<string, object?>
            {
                ["kind"] = "Namespace",
                ["apiVersion"] = "v1",
                ["metadata"] = Meta(name, null, at, new() { ["kubernetes.io/metadata.name"] = name }),
                ["spec"] = new Dictionary<string, object?> { ["finalizers"] = new[] { "kubernetes" } },
                ["status"] = new Dictionary<string, object?> { ["phase"] = "Active" },
            }, ["Active"]));
        }

        var pods = new (string Ns, string Name, string Image, int Age, string Ip)[]
        {
            ("production", "orders-api-7d9c6b5f8-x2k4p", "registry.corp.local/orders-api:3.8.2", 6, "10.244.1.17"),
            ("production", "orders-api-7d9c6b5f8-q9wz7", "registry.corp.local/orders-api:3.8.2", 6, "10.244.2.9"),
            ("production", "postgres-0", "postgres:15.4", 180, "10.244.1.4"),
            ("monitoring", "prometheus-server-5b8d7c9f6-hx7lm", "quay.io/prometheus/prometheus:v2.47.2", 40, "10.244.2.3"),
            ("ci", "jenkins-agent-6f4c8d7b9-m2n8v", "jenkins/inbound-agent:3148.v532a_7e715ee3-1", 12, "10.244.1.22"),
            ("kube-system", "coredns-5dd5756b68-7xk9c", "registry.k8s.io/coredns/coredns:v1.10.1", 214, "10.244.0.2"),
            ("kube-system", "etcd-" + node, "registry.k8s.io/etcd:3.5.9-0", 214, "10.0.0.10"),
            ("kube-system", "kube-apiserver-" + node, "registry.k8s.io/kube-apiserver:v1.28.4", 214, "10.0.0.10"),
        };
        foreach (var (ns, name, image, age, ip) in pods)
        {
            var at = now.AddDays(-age);
            var container = name.Contains('-', StringComparison.Ordinal) ? name[..name.IndexOf('-', StringComparison.Ordinal)] : name;
            Add(new KubeObject("Pod", ns, name, at, new Dictionary<string, object?>
            {
                ["kind"] = "Pod",
                ["apiVersion"] = "v1",
                ["metadata"] = Meta(name, ns, at, new() { ["app"] = container }),
                ["spec"] = new Dictionary<string, object?>
                {
                    ["containers"] = new[] { new Dictionary<string, object?> { ["name"] = container, ["image"] = image, ["imagePullPolicy"] = "IfNotPresent" } },
                    ["nodeName"] = ip == "10.0.0.10" ? node : node + "-worker-" + (ip.Contains(".1.", StringComparison.Ordinal) ? "1" : "2"),
                    ["serviceAccountName"] = ns == "ci" ? "jenkins" : "default",
                    ["restartPolicy"] = "Always",
                },
                ["status"] = new Dictionary<string, object?> { ["phase"] = "Running", ["podIP"] = ip, ["hostIP"] = "10.0.0." + (10 + ip[^1] % 3), ["startTime"] = Timestamp(at) },
            }, ["1/1", "Running", 0]));
        }

        var saToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik1rVzNxS3pPNnV6TjV0aE5ZUm1DcUxfT1lRZzJ6b0hSVnJ1cmQ1a3A3YkEifQ."
            + Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"iss\":\"kubernetes/serviceaccount\",\"kubernetes.io/serviceaccount/namespace\":\"ci\",\"kubernetes.io/serviceaccount/secret.name\":\"jenkins-token\",\"kubernetes.io/serviceaccount/service-account.name\":\"jenkins\",\"sub\":\"system:serviceaccount:ci:jenkins\"}")).TrimEnd('=').Replace('+', '-').Replace('/', '_')
            + ".mF3Qk8cJ0vX2pL7sN4tR9wY1zB6dG5hK3aE8uI0oP2qS7vW4xZ1cV9bN6mL3kJ0hG5fD2sA8";
        var secrets = new (string Ns, string Name, string Type, Dictionary<string, string> Data, int Age)[]
        {
            ("production", "postgres-credentials", "Opaque", new() { ["username"] = "orders", ["password"] = "Ord3rs!Pg-2023", ["host"] = "postgres-0.postgres.production.svc" }, 180),
            ("production", "aws-s3-backup", "Opaque", new() { ["AWS_ACCESS_KEY_ID"] = "AKIA5XQ2M7LBRT6P3K9Z", ["AWS_SECRET_ACCESS_KEY"] = "z7Xr3VtL0mN5xK2pW7cY1sB6dF9gH4jR0eT3uA8q", ["bucket"] = "corp-prod-db-backups" }, 120),
            ("production", "registry-pull", "kubernetes.io/dockerconfigjson", new() { [".dockerconfigjson"] = "{\"auths\":{\"registry.corp.local\":{\"username\":\"ci-bot\",\"password\":\"Rg-Pu11-8842\",\"auth\":\"" + B64("ci-bot:Rg-Pu11-8842") + "\"}}}" }, 180),
            ("ci", "jenkins-token", "kubernetes.io/service-account-token", new() { ["token"] = saToken, ["namespace"] = "ci", ["ca.crt"] = "-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\n-----END CERTIFICATE-----\n" }, 96),
            ("monitoring", "grafana-admin", "Opaque", new() { ["admin-user"] = "admin", ["admin-password"] = "Gr4fana!Mon" }, 150),
        };
        foreach (var (ns, name, type, data, age) in secrets)
        {
            var at = now.AddDays(-age);
            Add(new KubeObject("Secret", ns, name, at, new Dictionary<string, object?>
            {
                ["kind"] = "Secret",
                ["apiVersion"] = "v1",
                ["metadata"] = Meta(name, ns, at),
                ["type"] = type,
                ["data"] = data.ToDictionary(d => d.Key, d => (object?)B64(d.Value)),
            }, [type, data.Count]));
        }

        var configMaps = new (string Ns, string Name, Dictionary<string, string> Data)[]
        {
            ("production", "orders-api-config", new() { ["DATABASE_URL"] = "postgres://orders@postgres-0.postgres.production.svc:5432/orders", ["LOG_LEVEL"] = "info", ["FEATURE_FLAGS"] = "checkout_v2,fraud_check" }),
            ("kube-system", "kubeadm-config", new() { ["ClusterConfiguration"] = $"apiServer:\n  certSANs:\n  - {node}\n  - 10.0.0.10\nclusterName: corp-prod\nkubernetesVersion: v1.28.4\nnetworking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n" }),
        };
        foreach (var (ns, name, data) in configMaps)
        {
            Add(new KubeObject("ConfigMap", ns, name, created, new Dictionary<string, object?>
            {
                ["kind"] = "ConfigMap",
                ["apiVersion"] = "v1",
                ["metadata"] = Meta(name, ns, created),
                ["data"] = data,
            }, [data.Count]));
        }

        foreach (var (name, role, ip) in new[] { (node, "control-plane", "10.0.0.10"), (node + "-worker-1", "<none>", "10.0.0.11"), (node + "-worker-2", "<none>", "10.0.0.12") })
        {
            Add(new KubeObject("Node", string.Empty, name, created, new Dictionary<string, object?>
            {
                ["kind"] = "Node",
                ["apiVersion"] = "v1",
                ["metadata"] = Meta(name, null, created, new() { ["kubernetes.io/hostname"] = name, ["kubernetes.io/os"] = "linux" }),
                ["status"] = new Dictionary<string, object?>
                {
                    ["addresses"] = new[] { new Dictionary<string, object?> { ["type"] = "InternalIP", ["address"] = ip }, new Dictionary<string, object?> { ["type"] = "Hostname", ["address"] = name } },
                    ["nodeInfo"] = new Dictionary<string, object?> { ["kubeletVersion"] = "v1.28.4", ["osImage"] = "Ubuntu 22.04.3 LTS", ["kernelVersion"] = "5.15.0-91-generic", ["containerRuntimeVersion"] = "containerd://1.6.26", ["architecture"] = "amd64", ["operatingSystem"] = "linux" },
                },
            }, ["Ready", role, "v1.28.4"]));
        }

        foreach (var (ns, name, image) in new[] { ("production", "orders-api", "registry.corp.local/orders-api:3.8.2"), ("monitoring", "prometheus-server", "quay.io/prometheus/prometheus:v2.47.2") })
        {
            Add(new KubeObject("Deployment", ns, name, now.AddDays(-40), new Dictionary<string, object?>
            {
                ["kind"] = "Deployment",
                ["apiVersion"] = "apps/v1",
                ["metadata"] = Meta(name, ns, now.AddDays(-40)),
                ["spec"] = new Dictionary<string, object?> { ["replicas"] = 2, ["template"] = new Dictionary<string, object?> { ["spec"] = new Dictionary<string, object?> { ["containers"] = new[] { new Dictionary<string, object?> { ["name"] = name, ["image"] = image } } } } },
                ["status"] = new Dictionary<string, object?> { ["replicas"] = 2, ["readyReplicas"] = 2, ["availableReplicas"] = 2 },
            }, ["2/2", 2, 2]));
        }
    }

    public DateTimeOffset Now { get; }

    public List<KubeObject> Objects { get; } = [];

    private void Add(KubeObject item) => Objects.Add(item);

    /// <summary>Objects of a kind, in one namespace or all.</summary>
    public IReadOnlyList<KubeObject> List(string kind, string? ns) =>
        [.. Objects.Where(o => o.Kind == kind && (ns is null || o.Namespace == ns)).OrderBy(o => o.Namespace, StringComparer.Ordinal).ThenBy(o => o.Name, StringComparer.Ordinal)];

    public KubeObject? Get(string kind, string? ns, string name) =>
        Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name && (ns is null || o.Namespace == ns));

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
