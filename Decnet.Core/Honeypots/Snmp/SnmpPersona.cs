using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ics;

namespace Decnet.Core.Honeypots.Snmp;

/// <summary>One network interface of the agent's ifTable.</summary>
public sealed record SnmpInterface(string Description, int Type, int Mtu, uint Speed, byte[] PhysicalAddress);

/// <summary>
/// What the agent says about its device: the system group and the interfaces. Derived from the decky's OS
/// family, distro and archetype (a printer answers like a JetDirect card, an industrial controller like a
/// PLC), each value overridable by a persona key.
/// </summary>
public sealed record SnmpPersona(string Description, string ObjectId, string Contact, string Location, string Name, int Services, IReadOnlyList<SnmpInterface> Interfaces, bool HostResources)
{
    public static SnmpPersona For(ServiceContext context)
    {
        var host = context.Hostname;
        var mac = MacFor(host);
        IReadOnlyList<SnmpInterface> LinuxInterfaces(string nic = "eth0") =>
            [new("lo", 24, 65536, 10_000_000, []), new(nic, 6, 1500, 1_000_000_000, mac)];

        // An industrial decky tells one story on every service: conpot's PLC identity, the broker's plant and
        // this agent's system group come from the same persona (conpot's default template when none is set).
        var industrialName = context.PersonaValue("persona");
        SnmpPersona? persona = null;
        if (industrialName is not null || context.Archetype == "industrial-control")
        {
            var plant = IndustrialPersonas.Find(industrialName, IndustrialPersonas.Fallback);
            persona = new SnmpPersona(plant.SysDescr, "1.3.6.1.4.1.4329.6.1.2", plant.Contact, plant.Location, plant.SystemName, 78,
                [new($"{plant.Vendor}, {plant.ProductName}, PN-IO", 6, 1500, 100_000_000, mac)], false);
        }
        persona ??= context.OsFamily switch
        {
            "windows" => new SnmpPersona(
                "Hardware: Intel64 Family 6 Model 158 Stepping 10 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 19045 Multiprocessor Free)",
                "1.3.6.1.4.1.311.1.1.3.1.1", "", "", host, 76,
                [new("Software Loopback Interface 1", 24, 1500, 1_073_741_824, []), new("Intel(R) Ethernet Connection (7) I219-LM", 6, 1500, 1_000_000_000, mac)], true),
            "windows_server" => new SnmpPersona(
                "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)",
                "1.3.6.1.4.1.311.1.1.3.1.2", "", "", host, 76,
                [new("Software Loopback Interface 1", 24, 1500, 1_073_741_824, []), new("vmxnet3 Ethernet Adapter", 6, 1500, 4_294_967_295, mac)], true),
            "bsd" => new SnmpPersona($"FreeBSD {host} 13.2-RELEASE-p4 FreeBSD 13.2-RELEASE-p4 GENERIC amd64", "1.3.6.1.4.1.8072.3.2.8",
                "root@localhost", "Server room", host, 72, [new("lo0", 24, 16384, 0, []), new("em0", 6, 1500, 1_000_000_000, mac)], true),
            "cisco" => new SnmpPersona(
                "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)\r\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2017 by Cisco Systems, Inc.\r\nCompiled Sat 19-Aug-17 09:34 by prod_rel_team",
                "1.3.6.1.4.1.9.1.716", "", "", host, 6,
                [new("Vlan1", 53, 1500, 1_000_000_000, mac), new("GigabitEthernet0/1", 6, 1500, 1_000_000_000, mac)], false),
            "embedded" when context.Archetype == "printer" => new SnmpPersona(
                "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI24090012,CIDATE 06/18/2024", "1.3.6.1.4.1.11.2.3.9.1",
                "", "", host, 72, [new("HP ETHERNET MULTI-ENVIRONMENT", 6, 1500, 100_000_000, mac)], true),
            "embedded" => new SnmpPersona($"Linux {host} 4.9.37 #1 SMP PREEMPT Mon Jan 8 10:12:33 CST 2024 armv7l", "1.3.6.1.4.1.8072.3.2.10",
                "Me <me@example.org>", "Sitting on the Dock of the Bay", host, 72, LinuxInterfaces(), false),
            // net-snmp as Debian and Red Hat ship it, contact and location included.
            _ => new SnmpPersona($"Linux {host} {LinuxKernel(context.Distro)} x86_64", "1.3.6.1.4.1.8072.3.2.10",
                "Me <me@example.org>", "Sitting on the Dock of the Bay", host, 72, LinuxInterfaces(context.Distro is "rocky9" or "centos7" or "fedora" ? "ens192" : "eth0"), true),
        };
        return persona with
        {
            Description = context.PersonaValue("sys_descr") ?? persona.Description,
            ObjectId = context.PersonaValue("sys_object_id") is { } oid && IsOid(oid) ? oid : persona.ObjectId,
            Contact = context.PersonaValue("sys_contact") ?? persona.Contact,
            Location = context.PersonaValue("sys_location") ?? persona.Location,
            Name = context.PersonaValue("sys_name") ?? persona.Name,
        };
    }

    private static string LinuxKernel(string distro) => distro switch
    {
        "ubuntu22" => "5.15.0-105-generic #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024",
        "ubuntu20" => "5.4.0-176-generic #196-Ubuntu SMP Fri Mar 22 16:46:39 UTC 2024",
        "rocky9" => "5.14.0-362.24.1.el9_3.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Apr 4 22:31:43 UTC 2024",
        "centos7" => "3.10.0-1160.119.1.el7.x86_64 #1 SMP Tue Jun 4 14:43:51 UTC 2024",
        "fedora" => "6.8.9-100.fc39.x86_64 #1 SMP PREEMPT_DYNAMIC Thu May  2 18:50:49 UTC 2024",
        "alpine" => "6.6.31-0-lts #1-Alpine SMP PREEMPT_DYNAMIC Fri, 17 May 2024 05:51:01 +0000",
        "kali" => "6.8.11-amd64 #1 SMP PREEMPT_DYNAMIC Kali 6.8.11-1kali2 (2024-05-30)",
        "arch" => "6.9.3-arch1-1 #1 SMP PREEMPT_DYNAMIC Fri, 31 May 2024 15:14:45 +0000",
        _ => "6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
    };

    /// <summary>A locally stable MAC with a common NIC vendor's prefix (Intel), so every walk shows the same one.</summary>
    private static byte[] MacFor(string host)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("mac:" + host));
        return [0x3c, 0xec, 0xef, hash[0], hash[1], hash[2]];
    }

    private static bool IsOid(string text) =>
        text.Length is > 2 and < 256 && text.Split('.') is { Length: >= 2 } arcs && arcs.All(a => a.Length is > 0 and < 10 && a.All(char.IsAsciiDigit)) && arcs[0] is "0" or "1" or "2";
}
