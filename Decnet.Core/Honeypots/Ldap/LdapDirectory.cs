using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Ldap;

/// <summary>One attribute of an entry: its name as the directory spells it and its values.</summary>
public sealed record LdapAttribute(string Name, IReadOnlyList<byte[]> Values)
{
    public static LdapAttribute Text(string name, params string[] values) => new(name, [.. values.Select(Encoding.UTF8.GetBytes)]);
}

/// <summary>A directory entry. Attribute names compare case-insensitively, as LDAP requires.</summary>
public sealed class LdapEntry(string dn, IReadOnlyList<LdapAttribute> attributes)
{
    public string Dn { get; } = dn;

    public IReadOnlyList<LdapAttribute> Attributes { get; } = attributes;

    public LdapAttribute? Find(string name) => Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The parent's DN ("" for a naming context's root).</summary>
    public string Parent
    {
        get
        {
            var comma = LdapDirectory.FirstUnescapedComma(Dn);
            return comma < 0 ? string.Empty : Dn[(comma + 1)..];
        }
    }
}

/// <summary>
/// The small Active Directory domain a decky's LDAP shows: the domain object, the Users and Computers
/// containers, the Domain Controllers OU, built-in and persona accounts (one with a password left in its
/// description, one service account with an SPN: the baits intruders look for), groups and the rootDSE.
/// Names, SIDs and GUIDs derive from the domain, so a restarted decky shows the same directory.
/// </summary>
public sealed class LdapDirectory
{
    private const string DefaultUsers = "svc_backup,svc_sql,j.smith,a.jones,helpdesk";

    private readonly List<LdapEntry> _entries = [];
    private readonly string _domainSid;
    private readonly DateTimeOffset _created;

    public LdapDirectory(WindowsIdentity identity, string? users, DateTimeOffset now)
    {
        Identity = identity;
        BaseDn = string.Join(",", identity.DnsDomainName.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(label => "DC=" + label));
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(identity.DnsDomainName));
        _domainSid = string.Create(CultureInfo.InvariantCulture,
            $"S-1-5-21-{BitConverter.ToUInt32(seed, 0) % 2_000_000_000 + 100_000_000}-{BitConverter.ToUInt32(seed, 4) % 2_000_000_000 + 100_000_000}-{BitConverter.ToUInt32(seed, 8) % 2_000_000_000 + 100_000_000}");
        _created = now.AddDays(-(400 + (seed[12] % 300)));
        Build((users ?? DefaultUsers).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(50).ToList());
    }

    public WindowsIdentity Identity { get; }

    /// <summary>The domain's naming context, e.g. DC=corp,DC=local.</summary>
    public string BaseDn { get; }

    public string ConfigurationDn => "CN=Configuration," + BaseDn;

    public string ServerDn => $"CN={Identity.ComputerName},CN=Servers,CN=Default-First-Site-Name,CN=Sites,{ConfigurationDn}";

    public IReadOnlyList<LdapEntry> Entries => _entries;

    public LdapEntry? Find(string dn) => _entries.FirstOrDefault(e => SameDn(e.Dn, dn));

    /// <summary>The rootDSE in the order a Windows Server 2019 domain controller lists it.</summary>
    public LdapEntry RootDse(DateTimeOffset now)
    {
        var dnsDomain = Identity.DnsDomainName;
        return new LdapEntry(string.Empty,
        [
            LdapAttribute.Text("currentTime", now.UtcDateTime.ToString("yyyyMMddHHmmss'.0Z'", CultureInfo.InvariantCulture)),
            LdapAttribute.Text("subschemaSubentry", "CN=Aggregate,CN=Schema," + ConfigurationDn),
            LdapAttribute.Text("dsServiceName", "CN=NTDS Settings," + ServerDn),
            LdapAttribute.Text("namingContexts", BaseDn, ConfigurationDn, "CN=Schema," + ConfigurationDn, "DC=DomainDnsZones," + BaseDn, "DC=ForestDnsZones," + BaseDn),
            LdapAttribute.Text("defaultNamingContext", BaseDn),
            LdapAttribute.Text("rootDomainNamingContext", BaseDn),
            LdapAttribute.Text("configurationNamingContext", ConfigurationDn),
            LdapAttribute.Text("schemaNamingContext", "CN=Schema," + ConfigurationDn),
            LdapAttribute.Text("serverName", ServerDn),
            LdapAttribute.Text("supportedControl",
                "1.2.840.113556.1.4.319", "1.2.840.113556.1.4.801", "1.2.840.113556.1.4.473", "1.2.840.113556.1.4.528",
                "1.2.840.113556.1.4.417", "1.2.840.113556.1.4.619", "1.2.840.113556.1.4.841", "1.2.840.113556.1.4.529",
                "1.2.840.113556.1.4.805", "1.2.840.113556.1.4.521", "1.2.840.113556.1.4.970", "1.2.840.113556.1.4.1338",
                "1.2.840.113556.1.4.474", "1.2.840.113556.1.4.1339", "1.2.840.113556.1.4.1340", "1.2.840.113556.1.4.1413",
                "2.16.840.1.113730.3.4.9", "2.16.840.1.113730.3.4.10", "1.2.840.113556.1.4.1504", "1.2.840.113556.1.4.1852"),
            LdapAttribute.Text("supportedLDAPVersion", "3", "2"),
            LdapAttribute.Text("supportedLDAPPolicies", "MaxPoolThreads", "MaxPercentDirSyncRequests", "MaxDatagramRecv", "MaxReceiveBuffer",
                "InitRecvTimeout", "MaxConnections", "MaxConnIdleTime", "MaxPageSize", "MaxBatchReturnMessages", "MaxQueryDuration",
                "MaxTempTableSize", "MaxResultSetSize", "MinResultSets", "MaxResultSetsPerConn", "MaxNotificationPerConn", "MaxValRange"),
            LdapAttribute.Text("highestCommittedUSN", "110423"),
            LdapAttribute.Text("supportedSASLMechanisms", "GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"),
            LdapAttribute.Text("dnsHostName", Identity.DnsComputerName),
            LdapAttribute.Text("ldapServiceName", $"{dnsDomain}:{Identity.ComputerName.ToLowerInvariant()}$@{dnsDomain.ToUpperInvariant()}"),
            LdapAttribute.Text("supportedCapabilities", "1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670", "1.2.840.113556.1.4.1791",
                "1.2.840.113556.1.4.1935", "1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237"),
            LdapAttribute.Text("isSynchronized", "TRUE"),
            LdapAttribute.Text("isGlobalCatalogReady", "TRUE"),
            LdapAttribute.Text("domainFunctionality", "7"),
            LdapAttribute.Text("forestFunctionality", "7"),
            LdapAttribute.Text("domainControllerFunctionality", "7"),
        ]);
    }

    private void Build(List<string> users)
    {
        var dnsDomain = Identity.DnsDomainName;
        var usersDn = "CN=Users," + BaseDn;
        var computersDn = "CN=Computers," + BaseDn;
        var controllersDn = "OU=Domain Controllers," + BaseDn;

        Add(BaseDn, ["top", "domain", "domainDNS"], "domainDNS", 0,
            LdapAttribute.Text("dc", dnsDomain.Split('.')[0]),
            LdapAttribute.Text("ms-DS-MachineAccountQuota", "10"),
            LdapAttribute.Text("minPwdLength", "7"),
            LdapAttribute.Text("lockoutThreshold", "0"),
            new LdapAttribute("objectSid", [Sid(null)]));
        Add(usersDn, ["top", "container"], "Container", 0, LdapAttribute.Text("description", "Default container for upgraded user accounts"));
        Add(computersDn, ["top", "container"], "Container", 0, LdapAttribute.Text("description", "Default container for upgraded computer accounts"));
        Add(controllersDn, ["top", "organizationalUnit"], "Organizational-Unit", 0, LdapAttribute.Text("description", "Default container for domain controllers"));

        var domainAdmins = new List<string> { $"CN=Administrator,{usersDn}" };
        User(usersDn, "Administrator", 500, 66048, "Built-in account for administering the computer/domain", null);
        User(usersDn, "Guest", 501, 66082, "Built-in account for guest access to the computer/domain", null);
        User(usersDn, "krbtgt", 502, 514, "Key Distribution Center Service Account", null);
        var rid = 1103;
        foreach (var name in users)
        {
            var sam = Clean(name);
            if (sam.Length == 0)
            {
                continue;
            }
            var (description, spn) = sam switch
            {
                "helpdesk" => ($"Shared helpdesk account - temp password Welcome{_created.Year + 1}! (change at next logon)", null),
                var s when s.StartsWith("svc_sql", StringComparison.OrdinalIgnoreCase) => ("SQL Server service account", $"MSSQLSvc/sql01.{dnsDomain}:1433"),
                var s when s.StartsWith("svc_", StringComparison.OrdinalIgnoreCase) => ("Service account", (string?)null),
                _ => ((string?)null, (string?)null),
            };
            User(usersDn, sam, rid++, 66048, description, spn);
            if (sam.Equals("svc_backup", StringComparison.OrdinalIgnoreCase))
            {
                domainAdmins.Add($"CN={sam},{usersDn}");
            }
        }
        Group(usersDn, "Domain Admins", 512, "Designated administrators of the domain", domainAdmins);
        Group(usersDn, "Domain Users", 513, "All domain users", []);
        Group(usersDn, "Domain Computers", 515, "All workstations and servers joined to the domain", []);
        Group(usersDn, "Domain Controllers", 516, "All domain controllers in the domain", []);

        Computer(controllersDn, Identity.ComputerName, 1000, 532480, "Windows Server 2019 Standard", "10.0 (17763)");
        Computer(computersDn, "WS-0142", 1201, 4096, "Windows 10 Enterprise", "10.0 (19045)");
        Computer(computersDn, "WS-0177", 1202, 4096, "Windows 10 Enterprise", "10.0 (19045)");
        Computer(computersDn, "SQL01", 1203, 4096, "Windows Server 2019 Standard", "10.0 (17763)");
    }

    private void User(string container, string sam, int rid, int accountControl, string? description, string? spn)
    {
        var dn = $"CN={sam},{container}";
        var upn = $"{sam}@{Identity.DnsDomainName}";
        var parts = sam.Split('.', 2);
        List<LdapAttribute> attributes =
        [
            LdapAttribute.Text("sAMAccountName", sam),
            LdapAttribute.Text("userPrincipalName", upn),
            LdapAttribute.Text("sAMAccountType", "805306368"),
            LdapAttribute.Text("userAccountControl", accountControl.ToString(CultureInfo.InvariantCulture)),
            LdapAttribute.Text("primaryGroupID", "513"),
            LdapAttribute.Text("pwdLastSet", FileTime(_created.AddDays(rid % 90))),
            LdapAttribute.Text("lastLogonTimestamp", FileTime(_created.AddDays(300 + (rid % 60)))),
            LdapAttribute.Text("badPwdCount", "0"),
            new LdapAttribute("objectSid", [Sid(rid)]),
        ];
        if (parts.Length == 2)
        {
            var given = Capitalise(parts[0]);
            var surname = Capitalise(parts[1]);
            attributes.Add(LdapAttribute.Text("givenName", given));
            attributes.Add(LdapAttribute.Text("sn", surname));
            attributes.Add(LdapAttribute.Text("displayName", $"{given} {surname}"));
        }
        if (description is not null)
        {
            attributes.Add(LdapAttribute.Text("description", description));
        }
        if (spn is not null)
        {
            attributes.Add(LdapAttribute.Text("servicePrincipalName", spn));
        }
        if (rid == 500)
        {
            attributes.Add(LdapAttribute.Text("adminCount", "1"));
        }
        Add(dn, ["top", "person", "organizationalPerson", "user"], "Person", rid, [.. attributes]);
    }

    private void Group(string container, string name, int rid, string description, List<string> members)
    {
        List<LdapAttribute> attributes =
        [
            LdapAttribute.Text("sAMAccountName", name),
            LdapAttribute.Text("sAMAccountType", "268435456"),
            LdapAttribute.Text("groupType", "-2147483646"),
            LdapAttribute.Text("description", description),
            new LdapAttribute("objectSid", [Sid(rid)]),
        ];
        if (members.Count > 0)
        {
            attributes.Add(LdapAttribute.Text("member", [.. members]));
        }
        Add($"CN={name},{container}", ["top", "group"], "Group", rid, [.. attributes]);
    }

    private void Computer(string container, string name, int rid, int accountControl, string os, string osVersion)
    {
        var host = $"{name.ToLowerInvariant()}.{Identity.DnsDomainName}";
        Add($"CN={name},{container}", ["top", "person", "organizationalPerson", "user", "computer"], "Computer", rid,
            LdapAttribute.Text("sAMAccountName", name + "$"),
            LdapAttribute.Text("sAMAccountType", "805306369"),
            LdapAttribute.Text("userAccountControl", accountControl.ToString(CultureInfo.InvariantCulture)),
            LdapAttribute.Text("dNSHostName", host),
            LdapAttribute.Text("operatingSystem", os),
            LdapAttribute.Text("operatingSystemVersion", osVersion),
            LdapAttribute.Text("servicePrincipalName", $"HOST/{host}", $"HOST/{name}", $"RestrictedKrbHost/{host}"),
            new LdapAttribute("objectSid", [Sid(rid)]));
    }

    private void Add(string dn, string[] objectClasses, string category, int rid, params LdapAttribute[] specific)
    {
        var comma = FirstUnescapedComma(dn);
        var rdn = comma < 0 ? dn : dn[..comma];
        var name = rdn[(rdn.IndexOf('=', StringComparison.Ordinal) + 1)..];
        var created = _created.AddMinutes(rid).UtcDateTime.ToString("yyyyMMddHHmmss'.0Z'", CultureInfo.InvariantCulture);
        var guid = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(dn.ToUpperInvariant()))[..16]);
        List<LdapAttribute> attributes =
        [
            LdapAttribute.Text("objectClass", objectClasses),
            LdapAttribute.Text("cn", name),
            LdapAttribute.Text("distinguishedName", dn),
            LdapAttribute.Text("instanceType", rid == 0 && dn == BaseDn ? "5" : "4"),
            LdapAttribute.Text("whenCreated", created),
            LdapAttribute.Text("whenChanged", created),
            LdapAttribute.Text("name", name),
            new LdapAttribute("objectGUID", [guid.ToByteArray()]),
            LdapAttribute.Text("objectCategory", $"CN={category},CN=Schema,{ConfigurationDn}"),
            .. specific,
        ];
        _entries.Add(new LdapEntry(dn, attributes));
    }

    /// <summary>The binary SID (revision 1, authority 5, sub-authorities 21-x-y-z[-rid]) AD stores in objectSid.</summary>
    private byte[] Sid(int? rid)
    {
        var parts = _domainSid.Split('-')[3..].Select(p => uint.Parse(p, CultureInfo.InvariantCulture)).ToList();
        if (rid is not null)
        {
            parts.Add((uint)rid.Value);
        }
        var sid = new byte[8 + (4 * parts.Count)];
        sid[0] = 1;
        sid[1] = (byte)parts.Count;
        sid[7] = 5;
        for (var i = 0; i < parts.Count; i++)
        {
            BitConverter.TryWriteBytes(sid.AsSpan(8 + (4 * i)), parts[i]);
        }
        return sid;
    }

    private static string FileTime(DateTimeOffset at) => at.ToFileTime().ToString(CultureInfo.InvariantCulture);

    private static string Capitalise(string value) => value.Length == 0 ? value : char.ToUpperInvariant(value[0]) + value[1..];

    /// <summary>Persona user names become sAMAccountNames: characters AD allows, at most 20.</summary>
    private static string Clean(string value) =>
        new([.. value.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(20)]);

    public static bool SameDn(string a, string b) =>
        string.Equals(Normalise(a), Normalise(b), StringComparison.OrdinalIgnoreCase);

    /// <summary>Spaces after RDN separators are insignificant ("CN=x, DC=y" is "CN=x,DC=y").</summary>
    public static string Normalise(string dn) =>
        string.Join(",", dn.Split(',').Select(part => part.Trim()));

    /// <summary>True when <paramref name="dn"/> is <paramref name="ancestor"/> or lies below it.</summary>
    public static bool IsWithin(string dn, string ancestor)
    {
        if (ancestor.Length == 0)
        {
            return true;
        }
        var normalised = Normalise(dn);
        var root = Normalise(ancestor);
        return string.Equals(normalised, root, StringComparison.OrdinalIgnoreCase)
            || normalised.EndsWith("," + root, StringComparison.OrdinalIgnoreCase);
    }

    internal static int FirstUnescapedComma(string dn)
    {
        for (var i = 0; i < dn.Length; i++)
        {
            if (dn[i] == '\\')
            {
                i++;
            }
            else if (dn[i] == ',')
            {
                return i;
            }
        }
        return -1;
    }
}
