using System.Reflection;
using Decnet.Core.Configuration;

namespace Decnet.Tests.Architecture;

/// <summary>
/// Rules on what compiled code may use, read from the assemblies (signatures and IL), so a fully
/// qualified name cannot slip past them as it would past a search for <c>using</c> lines.
/// </summary>
public sealed class DependencyRulesTests(ITestOutputHelper output)
{
    private const string HoneypotNamespace = "Decnet.Core.Honeypots";

    /// <summary>What the decky service containers must not need: the database, the engine client, the web framework.</summary>
    private static readonly string[] s_notForHoneypots = ["Microsoft.EntityFrameworkCore", "Npgsql", "Microsoft.Data.Sqlite", "Docker.DotNet", "Microsoft.AspNetCore"];

    private static readonly Assembly s_core = typeof(OptionsProblems).Assembly;

    private static readonly Lazy<Dictionary<Type, IReadOnlySet<Type>>> s_coreReferences = new(() =>
        s_core.GetTypes().ToDictionary(t => t, TypeReferences.Of));

    /// <summary>
    /// Honeypot protocol code, and every Core type it reaches, uses none of those assemblies: the service
    /// container host loads only what it needs, and a protocol bug cannot reach the database.
    /// </summary>
    [Fact]
    public void Honeypot_code_reaches_no_database_engine_client_or_web_framework()
    {
        var references = s_coreReferences.Value;
        var honeypots = references.Keys.Where(IsHoneypot).ToList();
        Assert.True(honeypots.Count > 100, $"only {honeypots.Count} honeypot types found under {HoneypotNamespace}");

        // Walk from the honeypot types through every Core type they use, remembering how each was reached.
        var reachedFrom = honeypots.ToDictionary(t => t, _ => (Type?)null);
        var queue = new Queue<Type>(honeypots);
        var offences = new List<string>();
        while (queue.TryDequeue(out var type))
        {
            foreach (var used in references.GetValueOrDefault(type) ?? new HashSet<Type>())
            {
                var assembly = used.Assembly.GetName().Name ?? string.Empty;
                if (s_notForHoneypots.Any(p => assembly.StartsWith(p, StringComparison.Ordinal)))
                {
                    offences.Add($"{Path(type, reachedFrom)} uses {used.FullName} ({assembly})");
                }
                else if (used.Assembly == s_core && reachedFrom.TryAdd(used, type))
                {
                    queue.Enqueue(used);
                }
            }
        }
        output.WriteLine($"{honeypots.Count} honeypot types reach {reachedFrom.Count - honeypots.Count} other Core types");
        Assert.True(offences.Count == 0, string.Join('\n', offences.Distinct().Take(40)));
    }

    /// <summary>
    /// Core's features (the first namespace part under Decnet.Core) depend on each other without a cycle,
    /// so each can be read, tested and changed from the bottom up. Decnet.Core itself (the service
    /// registration) may use them all.
    /// </summary>
    [Fact]
    public void Core_features_do_not_depend_on_each_other_in_a_cycle()
    {
        var edges = new Dictionary<string, Dictionary<string, string>>();
        foreach (var (type, used) in s_coreReferences.Value)
        {
            if (IsSchema(type) || IsAnnouncement(type) || Feature(type) is not { } from)
            {
                continue;
            }
            foreach (var target in used.Where(u => u.Assembly == s_core))
            {
                if (Feature(target) is { } to && to != from)
                {
                    var targets = edges.TryGetValue(from, out var found) ? found : edges[from] = [];
                    targets.TryAdd(to, $"{Outer(type).FullName} → {Outer(target).FullName}");
                }
            }
        }
        foreach (var (from, targets) in edges.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{from} → {string.Join(", ", targets.Keys.Order(StringComparer.Ordinal))}");
        }

        var inCycle = StronglyConnected(edges).Where(c => c.Count > 1).ToList();
        var cycleEdges = edges.SelectMany(e => e.Value.Keys.Select(to => (From: e.Key, To: to)))
            .Where(e => inCycle.Any(c => c.Contains(e.From) && c.Contains(e.To)))
            .ToDictionary(e => $"{e.From} → {e.To}", e => edges[e.From][e.To]);
        output.WriteLine("dependencies inside a cycle: " + string.Join(", ", cycleEdges.Keys.Order(StringComparer.Ordinal).Select(k => $"\"{k}\"")));

        Assert.True(cycleEdges.Count == 0, "a dependency closes a cycle between Core features; depend the other way or move the type:\n"
            + string.Join('\n', cycleEdges.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key} ({e.Value})")));
    }

    /// <summary>
    /// Only Core announces changes on the notification hub: the web process hosts Core's loops and shows
    /// what they announce, so a page or worker never becomes a second source of the same news.
    /// </summary>
    [Fact]
    public void Web_code_does_not_publish_notifications()
    {
        static List<string?> Publishers(Assembly assembly) => [.. assembly.GetTypes()
            .Where(t => TypeReferences.Calls(t).Any(m => m.DeclaringType == typeof(Decnet.Core.Notifications.NotificationHub) && m.Name == nameof(Decnet.Core.Notifications.NotificationHub.Publish)))
            .Select(t => Outer(t).FullName)
            .Distinct()];

        // The scan sees Core's publishers, so an empty answer for the web host means something.
        Assert.Contains(typeof(Decnet.Core.Deckies.Fleet.DeckyFleet).FullName, Publishers(s_core));
        var publishers = Publishers(Assembly.Load("Decnet.Web"));
        Assert.True(publishers.Count == 0, "publishes on the notification hub from the web host: " + string.Join(", ", publishers));
    }

    /// <summary>
    /// The database schema maps every feature's entities by design (the context, its configurations, its
    /// migrations): like the service registration, it sits above the features it composes.
    /// </summary>
    private static bool IsSchema(Type type)
    {
        var outer = Outer(type);
        var ns = outer.Namespace ?? string.Empty;
        return ns.StartsWith("Decnet.Core.Storage.", StringComparison.Ordinal)
            || (ns == "Decnet.Core.Storage" && typeof(Microsoft.EntityFrameworkCore.DbContext).IsAssignableFrom(outer))
            || (ns == "Decnet.Core.Storage" && outer.Name is "DesignTimeDbContextFactory" or "StorageExtensions" or "DatabaseMigrator");
    }

    /// <summary>
    /// The messages Core publishes on the notification hub carry each feature's own types (a fleet's runtime
    /// status, a dashboard snapshot): like the schema, the catalogue sits above the features whose news it
    /// carries, while every feature that publishes depends on it. The hub itself uses no feature.
    /// </summary>
    private static bool IsAnnouncement(Type type)
    {
        var outer = Outer(type);
        return outer.Namespace == "Decnet.Core.Notifications" && outer != typeof(Decnet.Core.Notifications.NotificationHub);
    }

    private static bool IsHoneypot(Type type) =>
        type.Namespace is { } ns && (ns == HoneypotNamespace || ns.StartsWith(HoneypotNamespace + ".", StringComparison.Ordinal));

    private static string? Feature(Type type)
    {
        var parts = (Outer(type).Namespace ?? string.Empty).Split('.');
        return parts is ["Decnet", "Core", var feature, ..] ? feature : null;
    }

    /// <summary>A compiler-generated closure or state machine counts as the type that declared it.</summary>
    private static Type Outer(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        return type;
    }

    private static string Path(Type type, Dictionary<Type, Type?> reachedFrom)
    {
        var chain = new List<string>();
        for (Type? current = type; current is not null && chain.Count < 8; current = reachedFrom.GetValueOrDefault(current))
        {
            chain.Add(Outer(current).FullName ?? current.Name);
        }
        chain.Reverse();
        return string.Join(" → ", chain.Distinct());
    }

    /// <summary>Tarjan's strongly connected components of the feature graph.</summary>
    private static List<HashSet<string>> StronglyConnected(Dictionary<string, Dictionary<string, string>> edges)
    {
        var nodes = edges.Keys.Concat(edges.Values.SelectMany(t => t.Keys)).Distinct().ToList();
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<HashSet<string>>();
        var counter = 0;

        void Visit(string node)
        {
            index[node] = low[node] = counter++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in edges.GetValueOrDefault(node)?.Keys ?? Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], index[next]);
                }
            }
            if (low[node] == index[node])
            {
                var component = new HashSet<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }

        foreach (var node in nodes.Where(n => !index.ContainsKey(n)))
        {
            Visit(node);
        }
        return components;
    }
}
