using System.Net;

namespace Decnet.Core.Deckies;

/// <summary>Inputs to <see cref="DeckyPlanner"/> that do not come from the INI.</summary>
public sealed record DeckyPlanOptions
{
    /// <summary>
    /// Network used when the INI has no <c>[general] net</c>. Null makes such an INI an error. The
    /// embedded runtime passes <see cref="NetworkSpec.LoopbackLab"/> so an INI with only decky sections
    /// deploys on loopback addresses without privileges.
    /// </summary>
    public NetworkSpec? FallbackNetwork { get; init; }

    /// <summary>The host's own NIC, used when the INI names a subnet but no interface.</summary>
    public string? HostInterface { get; init; }

    /// <summary>The host's own address on the decky subnet; never handed to a decky.</summary>
    public IPAddress? HostIp { get; init; }

    /// <summary>A rotation interval (minutes) that overrides every decky's, e.g. from the command line.</summary>
    public int? MutateIntervalOverride { get; init; }

    public DeploymentMode Mode { get; init; } = DeploymentMode.Unihost;

    /// <summary>
    /// Which services the runtime that will host the deckies implements; random picks draw only from those,
    /// so a decky without services or archetype never lands on a service that cannot run. Null: every service.
    /// </summary>
    public Func<string, bool>? CanHost { get; init; }

    /// <summary>Options for the loopback lab: <see cref="NetworkSpec.LoopbackLab"/> when the INI has no network.</summary>
    public static DeckyPlanOptions LoopbackLab { get; } = new() { FallbackNetwork = NetworkSpec.LoopbackLab };
}

/// <summary>More deckies were asked for than the deployment limit allows.</summary>
public sealed class DeploymentLimitExceededException(int count, int limit)
    : Exception($"The deployment has {count} deckies but the limit is {limit}; remove deckies or raise the deployment limit.")
{
    public int Count { get; } = count;

    public int Limit { get; } = limit;
}

/// <summary>
/// Turns a validated <see cref="DeploymentSpec"/> into the deckies to deploy: assigns addresses,
/// services, distros, hostnames and OS families. Randomness and time are injected so a seeded
/// planner produces the same fleet every time. Not thread-safe, because <see cref="Random"/> is not:
/// use one planner per deploy.
/// </summary>
public sealed class DeckyPlanner(TimeProvider time, Random random)
{
    private const int MaxServicesPerRandomDecky = 3;

    // Retries before accepting a repeat; collisions are cosmetic, so the planner never fails on them.
    private const int HostnameAttempts = 20;

    private readonly TimeProvider _time = time;
    private readonly Random _random = random;

    public DeckyPlanner()
        : this(TimeProvider.System, new Random())
    {
    }

    /// <exception cref="IniValidationException">Addresses do not fit the network, or there is no network.</exception>
    public DecnetConfig Plan(DeploymentSpec spec, DeckyPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new DeckyPlanOptions();

        var network = spec.Network ?? options.FallbackNetwork
            ?? throw new IniValidationException(new IniError(spec.GeneralLine, spec.GeneralLine is null ? null : "general", "net",
                "the INI names no subnet; add [general] net = <cidr> (or deploy with the loopback lab network)"));
        var networkFromIni = spec.Network is not null;

        var nic = network.Interface ?? options.HostInterface
            ?? throw new IniValidationException(new IniError(spec.GeneralLine, "general", "interface",
                "no interface is set and the host interface is unknown; add [general] interface = <nic>"));

        var errors = DeckyAddressRules.Check(spec.Deckies, network, options.HostIp).ToList();
        if (errors.Count > 0)
        {
            throw new IniValidationException(errors);
        }

        var addresses = AllocateAddresses(spec, network, options.HostIp, networkFromIni);
        var now = _time.GetUtcNow().UtcDateTime;
        var hostnames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        var deckies = new List<DeckyConfig>(spec.Deckies.Count);
        for (var index = 0; index < spec.Deckies.Count; index++)
        {
            var decky = spec.Deckies[index];
            var archetype = Archetypes.Find(decky.Archetype);
            var distro = PickDistro(archetype, index);
            var services = decky.Services ?? archetype?.Services ?? PickRandomServices(options.CanHost, decky);
            deckies.Add(new DeckyConfig
            {
                Name = decky.Name,
                Ip = addresses[index].ToString(),
                Services = services,
                CustomServices = [.. spec.CustomServices.Where(c => services.Contains(c.Name, StringComparer.OrdinalIgnoreCase))],
                Distro = distro.Slug,
                BaseImage = distro.BaseImage,
                BuildBase = distro.BuildBase,
                Hostname = decky.Hostname is { } given ? Claim(given, hostnames) : UniqueHostname(distro, hostnames),
                Archetype = archetype?.Slug,
                ServiceConfig = decky.ServiceConfig,
                NmapOs = decky.NmapOs ?? archetype?.NmapOs ?? OsProfiles.LinuxSlug,
                MutateInterval = options.MutateIntervalOverride ?? decky.MutateInterval ?? spec.MutateInterval,
                LastMutated = now,
            });
        }

        return new DecnetConfig
        {
            Mode = options.Mode,
            Interface = nic,
            Subnet = network.Subnet.ToString(),
            Gateway = network.Gateway.ToString(),
            Deckies = deckies,
            Ipvlan = spec.Ipvlan,
            MutateInterval = spec.MutateInterval ?? DecnetConfig.DefaultMutateInterval,
        };
    }

    /// <summary>Plans with <see cref="NetworkSpec.LoopbackLab"/> as the network when the INI names none.</summary>
    public DecnetConfig PlanLoopbackLab(DeploymentSpec spec) => Plan(spec, DeckyPlanOptions.LoopbackLab);

    /// <summary>Guards the operator's deployment limit before anything is deployed.</summary>
    /// <exception cref="DeploymentLimitExceededException"><paramref name="deckyCount"/> is over <paramref name="limit"/>.</exception>
    public static void EnsureWithinLimit(int deckyCount, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (deckyCount > limit)
        {
            throw new DeploymentLimitExceededException(deckyCount, limit);
        }
    }

    /// <summary>Pinned addresses stay; the rest are taken in order from the free host addresses.</summary>
    private static List<IPAddress> AllocateAddresses(DeploymentSpec spec, NetworkSpec network, IPAddress? hostIp, bool networkFromIni)
    {
        var taken = new HashSet<IPAddress>(spec.Deckies.Where(d => d.Ip is not null).Select(d => d.Ip!)) { network.Gateway };
        if (hostIp is not null)
        {
            taken.Add(hostIp);
        }

        var needed = spec.Deckies.Count(d => d.Ip is null);
        var free = Ipv4.Hosts(network.Subnet).Where(a => !taken.Contains(a)).Take(needed).ToList();
        if (free.Count < needed)
        {
            throw new IniValidationException(new IniError(
                networkFromIni ? spec.GeneralLine : null,
                networkFromIni ? "general" : null,
                networkFromIni ? "net" : null,
                $"Not enough free IPs in {network.Subnet} for {needed} deckies: {free.Count} left after the network, " +
                "broadcast, gateway, host and pinned addresses"));
        }

        var next = 0;
        return [.. spec.Deckies.Select(d => d.Ip ?? free[next++])];
    }

    private static DistroProfile PickDistro(Archetype? archetype, int index)
    {
        if (archetype is { PreferredDistros.Count: > 0 })
        {
            return Distros.Get(archetype.PreferredDistros[index % archetype.PreferredDistros.Count]);
        }

        return Distros.All[index % Distros.All.Count];
    }

    /// <summary>1–3 services the runtime can host: a random decky must never deploy with nothing running.</summary>
    private List<string> PickRandomServices(Func<string, bool>? canHost, DeckySpec decky)
    {
        var pool = ServiceCatalog.PerDeckyServiceNames.Where(canHost ?? (_ => true)).ToArray();
        if (pool.Length == 0)
        {
            throw new IniValidationException(new IniError(decky.Line, decky.Section, "services",
                "no services or archetype given, and the runtime hosts none of the catalog's services to pick from; list services"));
        }
        _random.Shuffle(pool);
        return [.. pool.Take(_random.Next(1, MaxServicesPerRandomDecky + 1))];
    }

    /// <summary>A name the INI gives is kept as given (the shell prompt already uses it); generated names avoid it.</summary>
    private static string Claim(string hostname, HashSet<string> used)
    {
        used.Add(hostname);
        return hostname;
    }

    private string UniqueHostname(DistroProfile distro, HashSet<string> used)
    {
        var hostname = Distros.GenerateHostname(distro, _random);
        for (var attempt = 1; attempt < HostnameAttempts && used.Contains(hostname); attempt++)
        {
            hostname = Distros.GenerateHostname(distro, _random);
        }

        used.Add(hostname);
        return hostname;
    }
}
