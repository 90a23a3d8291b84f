namespace Decnet.Core.Honeypots.Ics;

/// <summary>
/// One plant a decky pretends to belong to: the controller's identity (as S7comm SZL records, Modbus device
/// identification and SNMP system facts report it), its process values and the MQTT topics its telemetry
/// gateway publishes. The names are upstream's SNMP personas (water_plant, factory, substation, hospital,
/// default), so every service of an industrial decky tells the same story: an attacker who reads sysName
/// over SNMP finds the same system name in the PLC's SZL and the same plant in the broker's topics.
/// </summary>
public sealed record IndustrialPersona(
    string Name,
    string SystemName,
    string Plant,
    string Location,
    string Contact,
    string Vendor,
    string VendorUrl,
    string ProductName,
    string ModuleType,
    string OrderNumber,
    string HardwareOrderNumber,
    byte FirmwareMajor,
    byte FirmwareMinor,
    byte FirmwarePatch,
    string Serial,
    string Copyright,
    IReadOnlyList<ushort> HoldingRegisters,
    IReadOnlyList<ushort> InputRegisters,
    IReadOnlyList<bool> Coils,
    IReadOnlyList<(string Topic, string Payload)> Topics)
{
    public string Firmware => $"V{FirmwareMajor}.{FirmwareMinor}.{FirmwarePatch}";

    /// <summary>SNMP sysDescr of the controller, as Siemens CPUs report it.</summary>
    public string SysDescr => $"{Vendor}, {ProductName}, {ModuleType}, {OrderNumber}, HW: 7, FW: {Firmware}, {Serial}";

    /// <summary>Registers, coils and topics beyond the named ones are the quiet rest of a real map: zeros.</summary>
    public const int RegisterCount = 128;

    public const int CoilCount = 128;
}

/// <summary>The plants an industrial decky can belong to.</summary>
public static class IndustrialPersonas
{
    public const string Default = "default";

    public static IndustrialPersona WaterPlant { get; } = new(
        "water_plant", "WTP-NORTH-PLC01", "North Valley Water Treatment", "Pump house 2, rack B", "scada-ops@nvwater.local",
        "Siemens", "https://www.siemens.com/automation", "SIMATIC S7-300", "CPU 315-2 PN/DP", "6ES7 315-2EH14-0AB0", "6ES7 315-2EH14-0AB0",
        3, 2, 6, "S C-X4U421302009", "Original Siemens Equipment",
        Registers(650, 1450, 18, 72, 7, 31, 1200, 0, 4, 95),
        Registers(612, 1438, 17, 71, 7, 29, 1187, 2, 4, 93, 12, 640),
        Bits(true, true, false, true, false, false, true),
        [
            ("plant/intake/pump1/status", "RUNNING"),
            ("plant/intake/pump1/speed_rpm", "1438"),
            ("plant/intake/pump2/status", "STANDBY"),
            ("plant/treatment/chlorine/dose_mgl", "1.8"),
            ("plant/treatment/turbidity_ntu", "0.31"),
            ("plant/reservoir/level_m", "6.12"),
            ("plant/reservoir/setpoint_m", "6.50"),
            ("scada/plc01/config", "{\"ip\":\"10.20.1.10\",\"rack\":0,\"slot\":2,\"hmi_user\":\"operator\",\"hmi_pass\":\"Wtp2019!\"}"),
            ("scada/alarms/last", "{\"ts\":\"2026-03-02T02:14:07Z\",\"tag\":\"LT-201\",\"msg\":\"Reservoir level high\",\"ack\":true}"),
        ]);

    public static IndustrialPersona Factory { get; } = new(
        "factory", "LINE3-CTRL", "Mouser Factory", "Assembly hall 3, cabinet 12", "plant-maintenance@mouser-mfg.local",
        "Siemens", "https://www.siemens.com/automation", "SIMATIC S7-1200", "CPU 1214C DC/DC/DC", "6ES7 214-1AG40-0XB0", "6ES7 214-1AG40-0XB0",
        4, 4, 1, "S V-L7P19320211", "Original Siemens Equipment",
        Registers(120, 45, 3, 880, 2150, 1, 0, 60),
        Registers(118, 44, 3, 874, 2163, 1, 37, 59, 22),
        Bits(true, false, true, true, false, true),
        [
            ("factory/line3/conveyor/speed_mps", "0.45"),
            ("factory/line3/press/cycle_count", "184223"),
            ("factory/line3/press/state", "AUTO"),
            ("factory/line3/oven/temp_c", "214.6"),
            ("factory/line3/oee", "0.81"),
            ("factory/mes/orders/current", "{\"order\":\"PO-55821\",\"part\":\"HX-220\",\"qty\":1200,\"done\":877}"),
            ("factory/plc/line3/credentials", "{\"tia_project\":\"LINE3_V17\",\"protection_pw\":\"Line3#Maint\"}"),
        ]);

    public static IndustrialPersona Substation { get; } = new(
        "substation", "SUB-ELM-RTU2", "Elm Street 110/20 kV Substation", "Control building, bay 4", "grid-control@elmpower.local",
        "Siemens", "https://www.siemens.com/energy", "SIMATIC S7-400", "CPU 414-3 PN/DP", "6ES7 414-3EM07-0AB0", "6ES7 414-3EM07-0AB0",
        6, 0, 9, "S Q-E2K336014015", "Original Siemens Equipment",
        Registers(1100, 200, 5000, 4998, 62, 1, 1, 0),
        Registers(1097, 201, 4986, 5001, 61, 1, 1, 0, 342, 338),
        Bits(true, true, true, false, false, false, true, true),
        [
            ("grid/substation/elm/bay4/breaker", "CLOSED"),
            ("grid/substation/elm/bay4/voltage_kv", "110.4"),
            ("grid/substation/elm/bay4/current_a", "342"),
            ("grid/substation/elm/transformer1/oil_temp_c", "61.8"),
            ("grid/substation/elm/frequency_hz", "49.98"),
            ("grid/scada/rtu2/iec104", "{\"asdu\":4,\"peer\":\"10.60.0.5:2404\",\"t1\":15}"),
        ]);

    public static IndustrialPersona Hospital { get; } = new(
        "hospital", "BMS-CHILLER-01", "St. Aurelia General Hospital", "Plant room L-1", "facilities@staurelia.local",
        "Siemens", "https://www.siemens.com/buildingtechnologies", "SIMATIC S7-1500", "CPU 1511-1 PN", "6ES7 511-1AK02-0AB0", "6ES7 511-1AK02-0AB0",
        2, 9, 4, "S C-J1N842117019", "Original Siemens Equipment",
        Registers(65, 120, 210, 45, 1, 22, 50),
        Registers(67, 118, 209, 46, 1, 22, 49, 18, 21),
        Bits(true, true, false, true),
        [
            ("hospital/bms/chiller1/supply_temp_c", "6.7"),
            ("hospital/bms/chiller1/state", "ON"),
            ("hospital/bms/or3/temp_c", "20.9"),
            ("hospital/bms/or3/humidity_pct", "48"),
            ("hospital/bms/generator/fuel_pct", "87"),
            ("hospital/bms/gateway/config", "{\"bacnet_device\":2101,\"web_user\":\"bmsadmin\",\"web_pass\":\"Aurelia2020\"}"),
        ]);

    /// <summary>Conpot's own default template: the device most scans of a fresh conpot see.</summary>
    public static IndustrialPersona Fallback { get; } = new(
        Default, "Technodrome", "Mouser Factory", "Venus", "Siemens AG",
        "Siemens", "https://www.siemens.com", "SIMATIC", "Siemens, SIMATIC, S7-200", "6ES7 215-1AG40-0XB0", "6ES7 215-1AG40-0XB0",
        4, 2, 1, "88111222", "Original Siemens Equipment",
        Registers(0, 1, 2, 3, 4, 5, 6, 7),
        Registers(34, 12, 7, 55),
        Bits(true, false, true, false, true),
        [
            ("plc/s7-200/status", "RUN"),
            ("plc/s7-200/cycle_ms", "12"),
        ]);

    public static IReadOnlyList<IndustrialPersona> All { get; } = [WaterPlant, Factory, Substation, Hospital, Fallback];

    /// <summary>The persona with this name (case-insensitive); an unknown or missing name gets <paramref name="fallback"/>.</summary>
    public static IndustrialPersona Find(string? name, IndustrialPersona fallback) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase)) ?? fallback;

    private static ushort[] Registers(params ushort[] named)
    {
        var registers = new ushort[IndustrialPersona.RegisterCount];
        named.CopyTo(registers, 0);
        return registers;
    }

    private static bool[] Bits(params bool[] named)
    {
        var bits = new bool[IndustrialPersona.CoilCount];
        named.CopyTo(bits, 0);
        return bits;
    }
}
