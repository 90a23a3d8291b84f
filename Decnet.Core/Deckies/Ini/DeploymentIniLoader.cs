using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Deckies;

/// <summary>
/// Reads a deployment INI (the description of the fake network) into a <see cref="DeploymentSpec"/>.
/// Every problem in the text is reported at once, each with its line, section and key.
/// </summary>
/// <remarks>
/// Sections: <c>[general]</c> (net, gw, interface, mutate_interval, ipvlan); <c>[custom-&lt;name&gt;]</c>
/// (binary, exec, ports); <c>[&lt;decky&gt;.&lt;service&gt;]</c> persona settings, recognised only when the
/// part after the last dot is a catalog service; every other section is a decky (ip, services,
/// archetype, nmap_os, mutate_interval, amount). Unknown keys are errors: a misspelt
/// <c>servcies</c> would otherwise silently give the decky random services.
/// </remarks>
public static partial class DeploymentIniLoader
{
    public const int MaxAmount = 100;
    public const int MaxNameLength = 128;

    private const string GeneralSection = "general";
    private const string CustomPrefix = "custom-";

    private static readonly string[] _generalKeys = ["net", "gw", "interface", "mutate_interval", "mutate-interval", "ipvlan"];
    private static readonly string[] _deckyKeys = ["ip", "hostname", "services", "archetype", "nmap_os", "nmap-os", "mutate_interval", "mutate-interval", "amount"];

    /// <summary>Services whose persona key <c>hostname</c> names the decky itself (upstream's spelling): one name per decky.</summary>
    private static readonly string[] _hostnameServices = ["ssh", "telnet"];
    private static readonly string[] _customKeys = ["binary", "exec", "ports"];

    /// <exception cref="IniValidationException">The INI is unusable; the exception lists every problem.</exception>
    public static DeploymentSpec Load(string? text)
    {
        var (document, syntaxErrors) = IniDocument.Read(text);
        var errors = new List<IniError>(syntaxErrors);
        if (document.Sections.Count == 0)
        {
            throw new IniValidationException(errors);
        }

        var general = document.Sections.Where(s => IsGeneral(s.Name)).ToList();
        foreach (var duplicate in general.Skip(1))
        {
            errors.Add(new IniError(duplicate.Line, duplicate.Name, null, $"[general] appears twice (first on line {general[0].Line})"));
        }

        var (network, mutateInterval, ipvlan) = general.Count > 0
            ? ReadGeneral(general[0], errors)
            : (null, null, false);

        var customServices = ReadCustomServices(document, errors);
        // Names of broken custom sections count too, so a decky using one is not also reported as
        // naming an unknown service: the custom section's own errors already say what is wrong.
        var customNames = document.Sections
            .Where(s => IsCustom(s.Name) && CustomNamePattern().IsMatch(s.Name[CustomPrefix.Length..]))
            .Select(s => s.Name[CustomPrefix.Length..])
            .Where(name => ServiceCatalog.Find(name) is null)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        var deckies = new List<DeckyDraft>();
        var sourceOf = new Dictionary<string, DeckyDraft>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in document.Sections.Where(IsDeckySection))
        {
            foreach (var draft in ReadDecky(section, customNames, errors))
            {
                if (sourceOf.TryGetValue(draft.Name, out var first))
                {
                    errors.Add(new IniError(section.Line, section.Name, null,
                        $"duplicate decky name '{draft.Name}' (already defined by [{first.Section.Name}] on line {first.Section.Line})"));
                    continue;
                }

                sourceOf[draft.Name] = draft;
                deckies.Add(draft);
            }
        }

        if (!document.Sections.Any(IsDeckySection))
        {
            errors.Add(new IniError(null, null, null, "the INI defines no decky; add at least one decky section such as [web-01]"));
        }

        ApplyServiceSubsections(document, deckies, errors);

        var specs = deckies.Select(d => d.ToSpec()).ToList();
        errors.AddRange(DeckyAddressRules.Check(specs, network, hostIp: null));

        if (errors.Count > 0)
        {
            throw new IniValidationException([.. errors.OrderBy(e => e.Line ?? int.MaxValue)]);
        }

        return new DeploymentSpec
        {
            Network = network,
            GeneralLine = general.Count > 0 ? general[0].Line : null,
            Ipvlan = ipvlan,
            MutateInterval = mutateInterval,
            Deckies = specs,
            CustomServices = customServices,
        };
    }

    /// <summary>Reads and loads a deployment INI file.</summary>
    public static async Task<DeploymentSpec> LoadFileAsync(string path, CancellationToken cancellationToken = default) =>
        Load(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));

    private static bool IsGeneral(string name) => string.Equals(name, GeneralSection, StringComparison.OrdinalIgnoreCase);

    private static bool IsCustom(string name) => name.StartsWith(CustomPrefix, StringComparison.OrdinalIgnoreCase);

    private static bool IsDeckySection(IniSection section) =>
        !IsGeneral(section.Name) && !IsCustom(section.Name) && ServiceSubsection(section.Name) is null;

    /// <summary>Splits <c>decky.service</c> when the part after the last dot is a catalog service.</summary>
    private static (string Target, string Service)? ServiceSubsection(string name)
    {
        var dot = name.LastIndexOf('.');
        if (dot <= 0 || dot == name.Length - 1)
        {
            return null;
        }

        return ServiceCatalog.Find(name[(dot + 1)..]) is { } service ? (name[..dot], service.Name) : null;
    }

    private static (NetworkSpec? Network, int? MutateInterval, bool Ipvlan) ReadGeneral(IniSection section, List<IniError> errors)
    {
        ReportUnknownKeys(section, _generalKeys, errors);

        var net = RequireValue(section, section.Find("net"), errors);
        var gw = RequireValue(section, section.Find("gw"), errors);
        var nic = RequireValue(section, section.Find("interface"), errors);
        var interval = ReadPositiveInteger(section, section.FindAny("mutate_interval", "mutate-interval"), errors);
        var ipvlan = ReadBoolean(section, section.Find("ipvlan"), errors);

        if (nic is not null && !IsInterfaceName(nic.Value!))
        {
            errors.Add(At(section, nic, $"'{nic.Value}' is not a network interface name (1 to 15 letters, digits, '.', '_' or '-')"));
        }

        if (net is null)
        {
            foreach (var orphan in new[] { gw, nic }.OfType<IniEntry>())
            {
                errors.Add(At(section, orphan, "needs 'net' in the same section, the subnet it belongs to"));
            }

            return (null, interval, ipvlan);
        }

        if (!Ipv4.TryParseNetwork(net.Value, out var subnet, out var netError))
        {
            errors.Add(At(section, net, netError));
            return (null, interval, ipvlan);
        }

        var gateway = Ipv4.FirstHost(subnet);
        if (gw is not null)
        {
            if (!Ipv4.TryParseAddress(gw.Value, out gateway))
            {
                errors.Add(At(section, gw, $"'{gw.Value}' is not an IPv4 address"));
                return (null, interval, ipvlan);
            }

            if (!Ipv4.IsHostOf(subnet, gateway))
            {
                errors.Add(At(section, gw, $"gateway {gateway} is not a host address of {subnet}"));
                return (null, interval, ipvlan);
            }
        }

        var interfaceName = nic is not null && IsInterfaceName(nic.Value!) ? nic.Value : null;
        return (new NetworkSpec(subnet, gateway, interfaceName), interval, ipvlan);
    }

    private static List<CustomService> ReadCustomServices(IniDocument document, List<IniError> errors)
    {
        var services = new List<CustomService>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in document.Sections.Where(s => IsCustom(s.Name)))
        {
            var name = section.Name[CustomPrefix.Length..];
            var sectionErrors = errors.Count;
            if (!CustomNamePattern().IsMatch(name))
            {
                errors.Add(new IniError(section.Line, section.Name, null,
                    "custom service name must be 1 to 64 letters, digits, '-' or '_' after 'custom-'"));
            }
            else if (ServiceCatalog.Find(name) is not null)
            {
                errors.Add(new IniError(section.Line, section.Name, null, $"'{name}' is a built-in service; give the custom service another name"));
            }
            else if (seen.TryGetValue(name, out var firstLine))
            {
                errors.Add(new IniError(section.Line, section.Name, null, $"custom service '{name}' is already defined on line {firstLine}"));
            }

            seen.TryAdd(name, section.Line);
            ReportUnknownKeys(section, _customKeys, errors);

            var image = RequireValue(section, section.Find("binary"), errors);
            if (section.Find("binary") is null)
            {
                errors.Add(new IniError(section.Line, section.Name, "binary", "is required: the container image to run"));
            }
            else if (image is not null && image.Value!.Any(char.IsWhiteSpace))
            {
                errors.Add(At(section, image, $"'{image.Value}' is not an image reference"));
            }

            var exec = RequireValue(section, section.Find("exec"), errors);
            var ports = ReadPorts(section, errors);

            if (errors.Count == sectionErrors && image is not null)
            {
                services.Add(new CustomService(
                    name,
                    image.Value!,
                    exec?.Value!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [],
                    ports));
            }
        }

        return services;
    }

    /// <summary>Ports as <c>9000, 9001/udp</c>; a bare number is TCP.</summary>
    private static List<ServicePort> ReadPorts(IniSection section, List<IniError> errors)
    {
        var ports = new List<ServicePort>();
        if (RequireValue(section, section.Find("ports"), errors) is not { } entry)
        {
            return ports;
        }

        foreach (var item in entry.Value!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('/', 2);
            var transport = parts.Length == 1 || parts[1].Equals("tcp", StringComparison.OrdinalIgnoreCase)
                ? ServiceTransport.Tcp
                : parts[1].Equals("udp", StringComparison.OrdinalIgnoreCase) ? (ServiceTransport?)ServiceTransport.Udp : null;
            if (transport is null
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                errors.Add(At(section, entry, $"'{item}' is not a port; use numbers 1 to 65535, optionally followed by /tcp or /udp"));
                continue;
            }

            ports.Add(new ServicePort(port, transport.Value));
        }

        return ports;
    }

    private static IEnumerable<DeckyDraft> ReadDecky(IniSection section, HashSet<string> customNames, List<IniError> errors)
    {
        var errorsBefore = errors.Count;
        if (!IsDeckyName(section.Name))
        {
            errors.Add(new IniError(section.Line, section.Name, null,
                $"decky name must be 1 to {MaxNameLength} letters, digits, '-', '_' or '.'"));
        }

        ReportUnknownKeys(section, _deckyKeys, errors);

        var ipEntry = RequireValue(section, section.Find("ip"), errors);
        IPAddress? ip = null;
        if (ipEntry is not null && !Ipv4.TryParseAddress(ipEntry.Value, out ip))
        {
            errors.Add(At(section, ipEntry, $"'{ipEntry.Value}' is not an IPv4 address"));
            ip = null;
        }

        var hostnameEntry = RequireValue(section, section.Find("hostname"), errors);
        string? hostname = null;
        if (hostnameEntry is not null)
        {
            if (HostnameError(hostnameEntry.Value!) is { } problem)
            {
                errors.Add(At(section, hostnameEntry, problem));
            }
            else
            {
                hostname = hostnameEntry.Value!.Trim();
            }
        }

        var services = ReadServices(section, customNames, errors);

        var archetypeEntry = RequireValue(section, section.Find("archetype"), errors);
        var archetype = archetypeEntry is null ? null : Archetypes.Find(archetypeEntry.Value);
        if (archetypeEntry is not null && archetype is null)
        {
            errors.Add(At(section, archetypeEntry, Archetypes.UnknownMessage(archetypeEntry.Value)));
        }

        var nmapEntry = RequireValue(section, section.FindAny("nmap_os", "nmap-os"), errors);
        var os = nmapEntry is null ? null : OsProfiles.Find(nmapEntry.Value);
        if (nmapEntry is not null && os is null)
        {
            errors.Add(At(section, nmapEntry, $"unknown OS family '{nmapEntry.Value}'; valid values: {string.Join(", ", OsProfiles.Slugs)}"));
        }

        var interval = ReadPositiveInteger(section, section.FindAny("mutate_interval", "mutate-interval"), errors);

        var amount = 1;
        if (RequireValue(section, section.Find("amount"), errors) is { } amountEntry)
        {
            if (!int.TryParse(amountEntry.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out amount))
            {
                errors.Add(At(section, amountEntry, "must be an integer"));
            }
            else if (amount > MaxAmount)
            {
                errors.Add(At(section, amountEntry, $"{amount} exceeds maximum allowed ({MaxAmount})"));
            }
            else if (amount < 1)
            {
                errors.Add(At(section, amountEntry, $"must be between 1 and {MaxAmount}"));
            }
            else if (amount > 1 && ipEntry is not null)
            {
                errors.Add(At(section, ipEntry, $"cannot be combined with amount = {amount}: copies of a decky need their own addresses"));
            }
            else if (amount > 1 && hostnameEntry is not null)
            {
                errors.Add(At(section, hostnameEntry, $"cannot be combined with amount = {amount}: copies of a decky need their own host names"));
            }
            else if (amount > 1 && section.Name.Length + 1 + Suffix(amount, amount).Length > MaxNameLength)
            {
                errors.Add(new IniError(section.Line, section.Name, null, $"expanded names would exceed {MaxNameLength} characters"));
            }
        }

        if (errors.Count > errorsBefore)
        {
            // A broken section still claims its name so later duplicates are reported, but yields
            // no usable deckies to the later checks.
            return amount is > 1 and <= MaxAmount
                ? Enumerable.Range(1, amount).Select(i => DeckyDraft.Broken($"{section.Name}-{Suffix(i, amount)}", section))
                : [DeckyDraft.Broken(section.Name, section)];
        }

        if (amount == 1)
        {
            return [new DeckyDraft(section.Name, section, ip, ipEntry?.Line, services, archetype?.Slug, os?.Slug, interval, expanded: false) { Hostname = hostname }];
        }

        return Enumerable.Range(1, amount)
            .Select(i => new DeckyDraft($"{section.Name}-{Suffix(i, amount)}", section, null, null, services, archetype?.Slug, os?.Slug, interval, expanded: true))
            .ToList();
    }

    private static string Suffix(int index, int amount) =>
        index.ToString(amount >= 100 ? "D3" : "D2", CultureInfo.InvariantCulture);

    private static List<string>? ReadServices(IniSection section, HashSet<string> customNames, List<IniError> errors)
    {
        if (RequireValue(section, section.Find("services"), errors) is not { } entry)
        {
            return null;
        }

        var names = entry.Value!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            errors.Add(At(section, entry, "lists no services; name at least one or remove the key"));
            return null;
        }

        var services = new List<string>();
        var unknown = new List<string>();
        foreach (var name in names)
        {
            var known = ServiceCatalog.Find(name);
            if (known is { FleetSingleton: true })
            {
                errors.Add(At(section, entry, $"'{known.Name}' runs once for the whole fleet and cannot be assigned to a decky"));
            }
            else if (known is not null)
            {
                AddOnce(services, known.Name);
            }
            else if (customNames.TryGetValue(name, out var custom))
            {
                AddOnce(services, custom);
            }
            else
            {
                unknown.Add(name);
            }
        }

        if (unknown.Count > 0)
        {
            errors.Add(At(section, entry, ServiceCatalog.UnknownMessage(string.Join("', '", unknown), customNames.Order(StringComparer.Ordinal))));
        }

        return services.Count > 0 ? services : null;

        static void AddOnce(List<string> list, string name)
        {
            if (!list.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(name);
            }
        }
    }

    /// <summary>
    /// Applies <c>[target.service]</c> persona sections: to the decky named exactly <c>target</c>, else
    /// to every copy expanded from a section named <c>target</c>. A subsection that reaches no decky is
    /// an error, because its persona would otherwise be dropped without a word.
    /// </summary>
    private static void ApplyServiceSubsections(IniDocument document, List<DeckyDraft> deckies, List<IniError> errors)
    {
        foreach (var section in document.Sections)
        {
            if (IsGeneral(section.Name) || IsCustom(section.Name) || ServiceSubsection(section.Name) is not { } subsection)
            {
                continue;
            }

            var (target, service) = subsection;

            var exact = deckies.Where(d => string.Equals(d.Name, target, StringComparison.OrdinalIgnoreCase)).ToList();
            var targets = exact.Count > 0
                ? exact
                : deckies.Where(d => d.Expanded && string.Equals(d.Section.Name, target, StringComparison.OrdinalIgnoreCase)).ToList();

            if (targets.Count == 0)
            {
                if (!deckies.Any(d => d.IsBroken && string.Equals(d.Section.Name, target, StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add(new IniError(section.Line, section.Name, null, $"no decky named '{target}' for these {service} settings"));
                }

                continue;
            }

            foreach (var entry in section.Entries)
            {
                // A bare "hostname" key is an empty persona value (the service then uses the decky's name), not a name.
                if (string.Equals(entry.Key, "hostname", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(entry.Value)
                    && _hostnameServices.Contains(service, StringComparer.OrdinalIgnoreCase))
                {
                    if (!AdoptHostname(section, entry, service, targets, errors))
                    {
                        continue;
                    }
                }
                foreach (var decky in targets)
                {
                    decky.SetPersona(service, entry.Key, entry.Value ?? "");
                }
            }
        }
    }

    /// <summary>
    /// An SSH or Telnet <c>hostname</c> is the decky's host name: the prompt, the fleet card and the persona
    /// must show one name. It becomes the decky's when the decky names none; a different one is an error.
    /// </summary>
    private static bool AdoptHostname(IniSection section, IniEntry entry, string service, List<DeckyDraft> targets, List<IniError> errors)
    {
        var value = entry.Value?.Trim() ?? "";
        if (HostnameError(value) is { } problem)
        {
            errors.Add(At(section, entry, problem));
            return false;
        }
        foreach (var decky in targets)
        {
            if (decky.Hostname is { } existing && !string.Equals(existing, value, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(At(section, entry, $"'{value}' differs from the host name '{existing}' decky '{decky.Name}' already has{(decky.HostnameSource is { } from ? $" ({from})" : "")}: a decky has one host name, set it once with hostname = in [{decky.Section.Name}]"));
                return false;
            }
        }
        foreach (var decky in targets)
        {
            if (decky.Hostname is null)
            {
                decky.Hostname = value;
                decky.HostnameSource = $"[{section.Name}] line {entry.Line}";
            }
        }
        return true;
    }

    /// <summary>RFC 1123: dot-separated labels of letters, digits and inner hyphens, 63 characters each, 253 in all.</summary>
    internal static string? HostnameError(string value)
    {
        value = value.Trim();
        if (value.Length is 0 or > 253)
        {
            return $"'{value}' is not a host name: 1 to 253 characters";
        }
        foreach (var label in value.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return $"'{value}' is not a host name: labels of letters, digits and inner '-', at most 63 characters, separated by '.'";
            }
        }
        return null;
    }

    private static IniEntry? RequireValue(IniSection section, IniEntry? entry, List<IniError> errors)
    {
        if (entry is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(entry.Value))
        {
            errors.Add(At(section, entry, "needs a value"));
            return null;
        }

        return entry;
    }

    private static int? ReadPositiveInteger(IniSection section, IniEntry? entry, List<IniError> errors)
    {
        if (RequireValue(section, entry, errors) is not { } valued)
        {
            return null;
        }

        if (!int.TryParse(valued.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            errors.Add(At(section, valued, "must be an integer"));
            return null;
        }

        if (value < 1)
        {
            errors.Add(At(section, valued, "must be at least 1 (minutes)"));
            return null;
        }

        return value;
    }

    private static bool ReadBoolean(IniSection section, IniEntry? entry, List<IniError> errors)
    {
        if (RequireValue(section, entry, errors) is not { } valued)
        {
            return false;
        }

        switch (valued.Value!.ToUpperInvariant())
        {
            case "TRUE" or "YES" or "ON" or "1":
                return true;
            case "FALSE" or "NO" or "OFF" or "0":
                return false;
            default:
                errors.Add(At(section, valued, "must be true or false"));
                return false;
        }
    }

    private static void ReportUnknownKeys(IniSection section, string[] validKeys, List<IniError> errors)
    {
        foreach (var entry in section.Entries)
        {
            if (!validKeys.Contains(entry.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(At(section, entry, $"unknown key; valid keys: {string.Join(", ", validKeys)}"));
            }
        }
    }

    private static IniError At(IniSection section, IniEntry entry, string message) =>
        new(entry.Line, section.Name, entry.Key, message);

    public static bool IsDeckyName(string name) => name.Length <= MaxNameLength && DeckyNamePattern().IsMatch(name);

    private static bool IsInterfaceName(string name) => InterfaceNamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex DeckyNamePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex CustomNamePattern();

    // Linux limits interface names to 15 bytes; the name is handed to the container engine verbatim.
    [GeneratedRegex("^[A-Za-z0-9._-]{1,15}$")]
    private static partial Regex InterfaceNamePattern();

    /// <summary>A decky while the INI is still being read: personas are collected from later sections.</summary>
    private sealed class DeckyDraft(
        string name,
        IniSection section,
        IPAddress? ip,
        int? ipLine,
        IReadOnlyList<string>? services,
        string? archetype,
        string? nmapOs,
        int? mutateInterval,
        bool expanded)
    {
        private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _personas = new(StringComparer.OrdinalIgnoreCase);

        public string Name { get; } = name;

        public IniSection Section { get; } = section;

        /// <summary>Made by <c>amount</c> expansion, so service subsections named after the section reach it.</summary>
        public bool Expanded { get; } = expanded;

        /// <summary>Its section had errors: it only reserves the name so duplicates are still reported.</summary>
        public bool IsBroken { get; private init; }

        /// <summary>The decky's host name: its own <c>hostname</c> key, else an SSH/Telnet one; null lets the planner pick.</summary>
        public string? Hostname { get; set; }

        /// <summary>Where <see cref="Hostname"/> came from when a service section set it, for error messages.</summary>
        public string? HostnameSource { get; set; }

        public static DeckyDraft Broken(string name, IniSection section) =>
            new(name, section, null, null, null, null, null, null, expanded: false) { IsBroken = true };

        public void SetPersona(string service, string key, string value)
        {
            if (!_personas.TryGetValue(service, out var persona))
            {
                persona = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                _personas[service] = persona;
            }

            ((Dictionary<string, string>)persona)[key] = value;
        }

        public DeckySpec ToSpec() => new()
        {
            Name = Name,
            Section = Section.Name,
            Line = Section.Line,
            Ip = ip,
            IpLine = ipLine,
            Services = services,
            Archetype = archetype,
            NmapOs = nmapOs,
            MutateInterval = mutateInterval,
            Hostname = Hostname,
            ServiceConfig = Personas.Copy(_personas),
        };
    }
}
