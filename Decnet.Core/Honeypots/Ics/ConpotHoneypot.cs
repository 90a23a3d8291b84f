using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ics;

public sealed class ConpotHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "conpot";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(ConpotHoneypot.ModbusPort), new(ConpotHoneypot.S7Port)];

    public IHoneypotService Create(ServiceContext context) => new ConpotHoneypot(context);
}

/// <summary>
/// A conpot-like programmable logic controller: Modbus/TCP on 502 and S7comm on 102, both telling the
/// identity of the persona's plant (persona <c>persona</c>: water_plant, factory, substation, hospital,
/// default; <c>system_name</c>, <c>plant</c> and <c>serial</c> override single facts). The decky's SNMP
/// service answers 161/udp with the same persona names.
/// </summary>
public sealed class ConpotHoneypot : IHoneypotService
{
    public const int ModbusPort = 502;
    public const int S7Port = 102;

    private readonly ModbusMemory _memory;

    public ConpotHoneypot(ServiceContext context)
    {
        Context = context;
        var persona = IndustrialPersonas.Find(context.PersonaValue("persona"), IndustrialPersonas.Fallback);
        Persona = persona with
        {
            SystemName = Fact(context.PersonaValue("system_name"), persona.SystemName),
            Plant = Fact(context.PersonaValue("plant"), persona.Plant),
            Serial = Fact(context.PersonaValue("serial"), persona.Serial),
        };
        _memory = new ModbusMemory(Persona);
    }

    public ServiceContext Context { get; }

    public IndustrialPersona Persona { get; }

    public Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken) =>
        connection.DeclaredPort == S7Port
            ? S7Server.ServeAsync(connection, Persona, cancellationToken)
            : ModbusServer.ServeAsync(connection, _memory, cancellationToken);

    /// <summary>SZL strings are 32 bytes and ASCII: an override is cut to fit rather than corrupting the record.</summary>
    private static string Fact(string? value, string fallback) =>
        value is null ? fallback : new string([.. value.Where(char.IsAscii).Take(32)]);
}
