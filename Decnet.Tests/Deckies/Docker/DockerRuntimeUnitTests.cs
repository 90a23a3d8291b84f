using System.Net;
using System.Net.Sockets;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Hosting;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace Decnet.Tests.Deckies.Docker;

[Trait("Category", "Unit")]
public sealed class DockerRuntimeUnitTests
{
    private static DeckyConfig Decky(string name, string ip, string os = "linux", params string[] services) => new()
    {
        Name = name,
        Ip = ip,
        Hostname = name + "-host",
        Services = services.Length > 0 ? services : ["redis"],
        NmapOs = os,
        ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["redis"] = new Dictionary<string, string> { ["version"] = "7.0.15" },
        },
    };

    private static DecnetConfig Deployment(bool ipvlan = false, params DeckyConfig[] deckies) => new()
    {
        Interface = "eth9",
        Subnet = "10.213.7.0/24",
        Gateway = "10.213.7.1",
        Ipvlan = ipvlan,
        Deckies = deckies.Length > 0 ? deckies : [Decky("web1", "10.213.7.20"), Decky("db1", "10.213.7.21")],
    };

    [Theory]
    [InlineData(new[] { "10.0.0.5" }, "10.0.0.5/32")]
    [InlineData(new[] { "10.0.0.20", "10.0.0.21" }, "10.0.0.20/31")]
    [InlineData(new[] { "10.0.0.21", "10.0.0.22" }, "10.0.0.20/30")]
    [InlineData(new[] { "10.0.0.15", "10.0.0.16" }, "10.0.0.0/27")]
    [InlineData(new[] { "10.0.0.5", "10.0.0.9" }, "10.0.0.0/28")]
    [InlineData(new[] { "10.0.0.1", "10.0.0.254" }, "10.0.0.0/24")]
    [InlineData(new[] { "10.0.0.255", "10.0.1.0" }, "10.0.0.0/23")]
    [InlineData(new[] { "0.0.0.1", "255.255.255.254" }, "0.0.0.0/0")]
    public void Ip_range_is_the_smallest_cidr_covering_every_decky(string[] ips, string expected) =>
        Assert.Equal(expected, DeckyNetworkPlan.SmallestCoveringCidr(ips.Select(IPAddress.Parse)));

    [Fact]
    public void Network_plan_uses_macvlan_bridge_mode_on_the_parent_and_reserves_the_shim_address()
    {
        var plan = DeckyNetworkPlan.For(Deployment(), hostShim: true);

        Assert.Equal("macvlan", plan.Driver);
        Assert.Equal("10.213.7.20/31", plan.IpRange);
        Assert.Equal("10.213.7.254", plan.ShimAddress);
        Assert.Equal("decnet_macvlan0", plan.ShimName);
        var create = plan.ToCreateParameters();
        Assert.Equal("decnet_lan", create.Name);
        Assert.Equal("eth9", create.Options["parent"]);
        Assert.Equal("bridge", create.Options["macvlan_mode"]);
        var pool = Assert.Single(create.IPAM!.Config);
        Assert.Equal(("10.213.7.0/24", "10.213.7.1", "10.213.7.20/31"), (pool.Subnet, pool.Gateway, pool.IPRange));
        Assert.Equal("10.213.7.254", pool.AuxAddress![DeckyNetworkPlan.ShimAuxKey]);
        Assert.Equal("true", create.Labels[DockerLabels.Managed]);
    }

    [Fact]
    public void Network_plan_uses_ipvlan_l2_and_its_own_shim_when_asked()
    {
        var plan = DeckyNetworkPlan.For(Deployment(ipvlan: true), hostShim: true, shimAddress: "10.213.7.200");

        Assert.Equal("ipvlan", plan.Driver);
        Assert.Equal("l2", plan.DriverOptions()["ipvlan_mode"]);
        Assert.False(plan.DriverOptions().ContainsKey("macvlan_mode"));
        Assert.Equal("decnet_ipvlan0", plan.ShimName);
        Assert.Equal("decnet_macvlan0", plan.OtherShimName);
        Assert.Equal("10.213.7.200", plan.ShimAddress);
    }

    [Theory]
    [InlineData("10.213.7.1")]
    [InlineData("10.213.7.20")]
    [InlineData("10.9.9.9")]
    public void A_shim_address_that_is_not_free_in_the_subnet_is_refused(string address) =>
        Assert.Throws<ArgumentException>(() => DeckyNetworkPlan.For(Deployment(), hostShim: true, shimAddress: address));

    [Fact]
    public void Without_a_shim_nothing_is_reserved()
    {
        var plan = DeckyNetworkPlan.For(Deployment(), hostShim: false);

        Assert.Null(plan.ShimAddress);
        Assert.Null(Assert.Single(plan.ToCreateParameters().IPAM!.Config).AuxAddress);
    }

    [Fact]
    public void An_existing_network_is_reused_only_when_driver_parent_and_pool_match()
    {
        var plan = DeckyNetworkPlan.For(Deployment(), hostShim: true);
        NetworkResponse Existing(string driver = "macvlan", string parent = "eth9", string range = "10.213.7.20/31", string shim = "10.213.7.254") => new()
        {
            Name = "decnet_lan",
            Driver = driver,
            Options = new Dictionary<string, string> { ["parent"] = parent, ["macvlan_mode"] = "bridge" },
            IPAM = new IPAM
            {
                Config = [new IPAMConfig { Subnet = "10.213.7.0/24", Gateway = "10.213.7.1", IPRange = range, AuxAddress = new Dictionary<string, string> { [DeckyNetworkPlan.ShimAuxKey] = shim } }],
            },
        };

        Assert.True(plan.Matches(Existing()));
        Assert.False(plan.Matches(Existing(driver: "ipvlan")));
        Assert.False(plan.Matches(Existing(parent: "eth0")));
        Assert.False(plan.Matches(Existing(range: "10.213.7.16/28")));
        Assert.False(plan.Matches(Existing(shim: "10.213.7.253")));
    }

    [Fact]
    public void Base_container_owns_ip_hostname_and_the_os_sysctls_with_labels()
    {
        var decky = Decky("win1", "10.213.7.20", os: "windows");
        var spec = DeckyContainerSpecs.Base(decky, new DockerRuntimeOptions());

        Assert.Equal("decnet/base:bookworm", spec.Image);
        Assert.Equal("win1-host", spec.Hostname);
        Assert.Equal(["sleep", "infinity"], spec.Cmd);
        Assert.Equal("10.213.7.20", spec.NetworkingConfig!.EndpointsConfig["decnet_lan"].IPAMConfig!.IPv4Address);
        Assert.Equal("decnet_lan", spec.HostConfig!.NetworkMode);
        Assert.Equal("128", spec.HostConfig!.Sysctls!["net.ipv4.ip_default_ttl"]);
        Assert.Equal(10, spec.HostConfig!.Sysctls.Count);
        Assert.Equal(["NET_ADMIN"], spec.HostConfig!.CapAdd);
        Assert.True(spec.HostConfig!.Init);
        Assert.Equal(RestartPolicyKind.UnlessStopped, spec.HostConfig!.RestartPolicy.Name);
        Assert.Equal("true", spec.Labels[DockerLabels.Managed]);
        Assert.Equal("win1", spec.Labels[DockerLabels.Decky]);
        Assert.Equal("base", spec.Labels[DockerLabels.Role]);
        Assert.Equal(decky, DeckyConfigJson.DeserializeDecky(spec.Labels[DockerLabels.Config]));
    }

    [Fact]
    public void Service_container_joins_the_base_namespace_without_sysctls_and_gets_the_agent_environment()
    {
        var decky = Decky("db1", "10.213.7.21");
        var spec = DeckyContainerSpecs.Service(decky, "redis", "abc123", new DockerRuntimeOptions { HoneypotTag = "1.2.3" });

        Assert.Equal("decnet/honeypot:1.2.3", spec.Image);
        Assert.Equal("container:abc123", spec.HostConfig!.NetworkMode);
        Assert.Null(spec.HostConfig!.Sysctls);
        Assert.True(string.IsNullOrEmpty(spec.Hostname));
        Assert.True(spec.HostConfig!.Init);
        Assert.Equal(RestartPolicyKind.UnlessStopped, spec.HostConfig!.RestartPolicy.Name);
        Assert.Equal("json-file", spec.HostConfig!.LogConfig.Type);
        Assert.Equal(("10m", "5"), (spec.HostConfig!.LogConfig.Config["max-size"], spec.HostConfig!.LogConfig.Config["max-file"]));
        Assert.Equal(
            new Dictionary<string, string> { [DockerLabels.Managed] = "true", [DockerLabels.Decky] = "db1", [DockerLabels.Service] = "redis", [DockerLabels.Role] = "service" },
            spec.Labels);
        Assert.Contains("DECNET_DECKY=db1", spec.Env);
        Assert.Contains("DECNET_HOSTNAME=db1-host", spec.Env);
        Assert.Contains("DECNET_SERVICES=redis", spec.Env);
        Assert.Contains("DECNET_BIND_ADDRESS=0.0.0.0", spec.Env);
        Assert.Contains("""DECNET_PERSONA_JSON={"redis":{"version":"7.0.15"}}""", spec.Env);
        Assert.Empty(spec.HostConfig!.Binds);
        // No host folder (a remote engine): no socket to share, each container counts its own sessions.
        Assert.DoesNotContain(spec.Env, e => e.StartsWith("DECNET_ADMISSION_SOCKET=", StringComparison.Ordinal));
    }

    [Fact]
    public void With_a_host_data_folder_each_service_container_mounts_only_its_own_state_and_artifacts()
    {
        var decky = Decky("db1", "10.213.7.21");
        var spec = DeckyContainerSpecs.Service(decky, "ssh", "abc123", new DockerRuntimeOptions { HostDataDirectory = "/srv/decnet/data" });

        // Plus the host's shared session admission: its folder read-only, its socket path in the environment.
        Assert.Equal(
            [
                "/srv/decnet/data/deckies/db1/ssh:/var/lib/decnet/state/db1/ssh:rw",
                "/srv/decnet/data/artifacts/db1/ssh:/var/lib/decnet/artifacts/db1/ssh:rw",
                "/srv/decnet/data/admission:/run/decnet/admission:ro",
            ],
            spec.HostConfig!.Binds);
        Assert.Contains("DECNET_ADMISSION_SOCKET=/run/decnet/admission/admission.sock", spec.Env);

        var own = DeckyContainerSpecs.Service(decky, "ssh", "abc123", new DockerRuntimeOptions { HostDataDirectory = "/srv/decnet/data", SharedAdmission = false });
        Assert.Equal(2, own.HostConfig!.Binds.Count);
        Assert.DoesNotContain(own.Env!, e => e.StartsWith("DECNET_ADMISSION_SOCKET=", StringComparison.Ordinal));
    }

    [Fact]
    public void Transient_engine_errors_are_retried_and_permanent_ones_are_not()
    {
        static DockerApiException Api(HttpStatusCode code, string message) =>
            new(code, $$"""{"message":"{{message}}"}""");

        Assert.True(DockerErrors.IsTransient(Api(HttpStatusCode.InternalServerError, "context deadline exceeded")));
        Assert.True(DockerErrors.IsTransient(Api(HttpStatusCode.ServiceUnavailable, "engine busy")));
        Assert.True(DockerErrors.IsTransient(new TimeoutRejectedException()));
        Assert.True(DockerErrors.IsTransient(new HttpRequestException("connection refused")));
        Assert.True(DockerErrors.IsTransient(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.True(DockerErrors.IsTransient(new IOException("broken pipe")));

        Assert.False(DockerErrors.IsTransient(Api(HttpStatusCode.NotFound, "No such image: decnet/honeypot:dev")));
        Assert.False(DockerErrors.IsTransient(Api(HttpStatusCode.Conflict, "Conflict. The container name is already in use")));
        Assert.False(DockerErrors.IsTransient(Api(HttpStatusCode.BadRequest, "invalid reference format")));
        Assert.False(DockerErrors.IsTransient(Api(HttpStatusCode.InternalServerError, "OCI runtime create failed: sysctl not allowed")));
        Assert.False(DockerErrors.IsTransient(new ArgumentException("bad")));
        Assert.Equal("No such image: x", DockerErrors.Describe(Api(HttpStatusCode.NotFound, "No such image: x")));
    }

    [Fact]
    public async Task The_pipeline_retries_a_transient_failure_but_gives_up_at_once_on_a_permanent_one()
    {
        var pipeline = DockerErrors.CreatePipeline(new DockerRuntimeOptions { RetryDelay = TimeSpan.FromMilliseconds(1), MaxRetryAttempts = 3 });
        var transientCalls = 0;
        var result = await pipeline.ExecuteAsync(_ =>
        {
            transientCalls++;
            return transientCalls < 3 ? throw new HttpRequestException("reset") : ValueTask.FromResult(42);
        }, TestContext.Current.CancellationToken);
        Assert.Equal((42, 3), (result, transientCalls));

        var permanentCalls = 0;
        await Assert.ThrowsAsync<DockerImageNotFoundException>(async () => await pipeline.ExecuteAsync<int>(_ =>
        {
            permanentCalls++;
            throw new DockerImageNotFoundException(HttpStatusCode.NotFound, """{"message":"No such image"}""");
        }, TestContext.Current.CancellationToken));
        Assert.Equal(1, permanentCalls);
    }

    [Theory]
    [InlineData("running", "Up 3 seconds", ServiceRunState.Running)]
    [InlineData("exited", "Exited (137) 2 seconds ago", ServiceRunState.Exited)]
    [InlineData("dead", "Dead", ServiceRunState.Exited)]
    [InlineData("restarting", "Restarting (1) 1 second ago", ServiceRunState.Exited)]
    [InlineData("created", "Created", ServiceRunState.Failed)]
    public void Container_states_map_to_service_states(string state, string status, ServiceRunState expected)
    {
        var (mapped, error) = DockerDeckyRuntime.ServiceState(new ContainerListResponse { State = state, Status = status });
        Assert.Equal(expected, mapped);
        Assert.Equal(expected == ServiceRunState.Running, error is null);
    }

    [Fact]
    public void The_spec_hash_names_what_a_container_is_made_from_and_ignores_its_own_label()
    {
        var options = new DockerRuntimeOptions();
        var decky = Decky("web1", "10.213.7.20");
        var stamped = DeckyContainerSpecs.Stamped(DeckyContainerSpecs.Service(decky, "redis", "base-id", options));

        Assert.Equal(DeckyContainerSpecs.SpecHash(DeckyContainerSpecs.Service(decky, "redis", "base-id", options)), stamped.Labels[DockerLabels.Spec]);
        Assert.Equal(stamped.Labels[DockerLabels.Spec], DeckyContainerSpecs.SpecHash(stamped));
        Assert.Matches("^[0-9a-f]{64}$", stamped.Labels[DockerLabels.Spec]);

        // Anything that changes the container changes the hash: image, limits, persona, namespace owner.
        var changed = new[]
        {
            DeckyContainerSpecs.Service(decky, "redis", "base-id", new DockerRuntimeOptions { ServiceImages = { ["redis"] = "decnet/honeypot:next" } }),
            DeckyContainerSpecs.Service(decky, "redis", "base-id", new DockerRuntimeOptions { ServiceMemoryLimitMiB = 256 }),
            DeckyContainerSpecs.Service(decky with { Hostname = "renamed" }, "redis", "base-id", options),
            DeckyContainerSpecs.Service(decky, "redis", "other-base", options),
        };
        Assert.All(changed, parameters => Assert.NotEqual(stamped.Labels[DockerLabels.Spec], DeckyContainerSpecs.SpecHash(parameters)));
        Assert.NotEqual(DeckyContainerSpecs.SpecHash(DeckyContainerSpecs.Base(decky, options)),
            DeckyContainerSpecs.SpecHash(DeckyContainerSpecs.Base(decky, new DockerRuntimeOptions { BaseMemoryLimitMiB = 64 })));
    }
}

[Trait("Category", "Unit")]
public sealed class DockerRuntimeOptionsTests
{
    [Fact]
    public void Defaults_run_the_offline_images_on_the_local_socket_with_a_host_shim()
    {
        var options = new DockerRuntimeOptions();

        Assert.Equal("unix:///var/run/docker.sock", options.Endpoint);
        Assert.Equal("decnet/base:bookworm", options.BaseImage);
        Assert.Equal("decnet/honeypot:dev", options.ImageFor("redis"));
        Assert.True(options.HostShim);
        Assert.True(new DockerRuntimeOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void A_per_service_image_overrides_the_honeypot_image()
    {
        var options = new DockerRuntimeOptions { ServiceImages = { ["HTTP"] = "registry.local/http:2" } };

        Assert.Equal("registry.local/http:2", options.ImageFor("http"));
        Assert.Equal("decnet/honeypot:dev", options.ImageFor("redis"));
    }

    [Fact]
    public void Every_invalid_option_is_reported()
    {
        var result = new DockerRuntimeOptionsValidator().Validate(null, new DockerRuntimeOptions
        {
            Endpoint = "docker.sock",
            BaseImage = " ",
            HoneypotTag = "",
            HostShimAddress = "10.1",
            RequestTimeout = TimeSpan.Zero,
            MaxRetryAttempts = 99,
            ServiceMemoryLimitMiB = 0,
            ServicePidsLimit = -1,
            BaseMemoryLimitMiB = 4,
            BasePidsLimit = 1_000_000,
        });

        Assert.True(result.Failed);
        Assert.Equal(10, result.Failures!.Count());
        Assert.Contains("Decnet:Runtime:Docker:ServiceMemoryLimitMiB is 0; it must be between 64 and 65536.", result.Failures!);
    }

    [Fact]
    public void Each_service_container_is_told_its_share_of_the_deckys_artifact_quota_and_session_cap()
    {
        var options = new DockerRuntimeOptions
        {
            HoneypotLimits = new HoneypotLimitsOptions
            {
                Artifacts = new() { MaxBytesPerDecky = 300L * 1024 * 1024, MaxFilesPerSession = 10 },
                Admission = new() { MaxSessionsPerSourcePerDecky = 20, MaxSessionsPerDecky = 600 },
            },
        };
        var decky = new DeckyConfig { Name = "web1", Ip = "10.213.7.20", Hostname = "web1-host", Services = ["redis", "ssh", "http"], NmapOs = "linux" };

        var environments = decky.Services.Select(service => DeckyContainerSpecs.Service(decky, service, "base-id", options).Env!).ToList();

        // Three services: each keeps a third of the decky's quota and sessions, so together they hold the decky's.
        Assert.All(environments, env =>
        {
            Assert.Contains("DECNET_ARTIFACTS_MAX_BYTES=104857600", env);
            Assert.Contains("DECNET_ARTIFACTS_FILES_PER_SESSION=10", env);
            Assert.Contains("DECNET_SESSIONS_PER_SOURCE=20", env);
            Assert.Contains("DECNET_SESSIONS_MAX=200", env);
        });
        // A share is never below one source's limit: a lone client of one service must still fit.
        var crowded = decky with { Services = [.. Enumerable.Range(0, 40).Select(i => "svc" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))] };
        Assert.Contains("DECNET_SESSIONS_MAX=20", DeckyContainerSpecs.ServiceEnvironment(crowded, "svc0", options.HoneypotLimits));
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 50)]
    [InlineData(4, 25)]
    [InlineData(0, 64)]
    public void A_deckys_artifact_budget_is_its_quota_or_its_part_of_the_hosts_total(int deckies, long expectedMiB)
    {
        var limits = new HoneypotLimitsOptions();
        limits.Artifacts.MaxBytesPerDecky = 64L * 1024 * 1024;
        limits.Artifacts.MaxBytesTotal = 100L * 1024 * 1024;

        Assert.Equal(expectedMiB * 1024 * 1024, DeckyContainerSpecs.ArtifactBudget(limits, deckies));
        var decky = new DeckyConfig { Name = "web1", Ip = "10.213.7.20", Hostname = "web1-host", Services = ["http", "ftp"], NmapOs = "linux" };
        // Split between the decky's service containers like the rest of its quota.
        Assert.Contains($"DECNET_ARTIFACTS_MAX_BYTES={expectedMiB * 1024 * 1024 / 2}", DeckyContainerSpecs.ServiceEnvironment(decky, "http", limits, DeckyContainerSpecs.ArtifactBudget(limits, deckies)));
    }

    [Fact]
    public void Every_container_gets_a_memory_limit_without_extra_swap_and_a_pids_limit()
    {
        var options = new DockerRuntimeOptions { ServiceMemoryLimitMiB = 300, ServicePidsLimit = 100 };
        var decky = new DeckyConfig { Name = "web1", Ip = "10.213.7.20", Hostname = "web1-host", Services = ["redis"], NmapOs = "linux" };

        var service = DeckyContainerSpecs.Service(decky, "redis", "base-id", options).HostConfig!;
        var baseline = DeckyContainerSpecs.Base(decky, options).HostConfig!;

        Assert.Equal((300L * 1024 * 1024, 300L * 1024 * 1024, 100L), (service.Memory, service.MemorySwap, service.PidsLimit ?? 0));
        Assert.Equal((32L * 1024 * 1024, 32L * 1024 * 1024, 32L), (baseline.Memory, baseline.MemorySwap, baseline.PidsLimit ?? 0));
        var defaults = DeckyContainerSpecs.Service(decky, "redis", "base-id", new DockerRuntimeOptions()).HostConfig!;
        Assert.Equal((512L * 1024 * 1024, 512L), (defaults.Memory, defaults.PidsLimit ?? 0));
    }

    [Fact]
    public void The_runtime_registers_as_the_decky_runtime_with_a_critical_docker_probe()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Decnet:Runtime:Docker:Endpoint"] = "unix:///tmp/dnt-none.sock", ["Decnet:Runtime:Docker:HoneypotTag"] = "1.0" })
            .Build());
        services.AddLogging();
        services.AddDockerDeckyRuntime();
        using var provider = services.BuildServiceProvider();

        var runtime = provider.GetRequiredService<IDeckyRuntime>();
        Assert.Equal("docker", runtime.Kind);
        var probe = Assert.Single(provider.GetServices<Decnet.Core.Health.IHealthProbe>());
        Assert.Equal(("docker", true), (probe.Name, probe.Critical));
        Assert.Equal("decnet/honeypot:1.0", provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<DockerRuntimeOptions>>().Value.ServiceImageReference);
    }
}
