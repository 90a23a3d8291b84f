using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Decnet.Core.Honeypots.Elasticsearch;

/// <summary>One stored document: its id, its source as JSON text, and its leaf fields flattened for matching.</summary>
public sealed record EsDocument(string Id, string Source, IReadOnlyDictionary<string, string> Fields);

/// <summary>One bait index as <c>_cat/indices</c> and searches show it.</summary>
public sealed record EsIndex(string Name, string Uuid, long StoreBytes, IReadOnlyList<EsDocument> Documents, IReadOnlyDictionary<string, string> Mappings);

/// <summary>
/// The indices of an exposed cluster: customers, users with API keys, an application's secrets and its logs.
/// Generated from the hostname, so a returning visitor sees the same data and two deckies never share it.
/// </summary>
public static class ElasticsearchBait
{
    private static readonly string[] FirstNames = ["sophie", "jonas", "clara", "mateo", "lena", "oscar", "nora", "felix", "ines", "viktor"];
    private static readonly string[] LastNames = ["weber", "martin", "larsen", "moreau", "nowak", "fischer", "bianchi", "santos", "horvat", "lindqvist"];
    private static readonly string[] Cities = ["Berlin", "Lyon", "Rotterdam", "Porto", "Gdansk", "Vienna", "Malmo", "Turin"];
    private static readonly string[] Paths = ["/api/v1/orders", "/api/v1/login", "/api/v1/cart", "/api/v1/payments/charge", "/healthz"];

    public static IReadOnlyList<EsIndex> For(string hostname)
    {
        var random = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes("elasticsearch:" + hostname)), 0));
        var epoch = new DateTimeOffset(2025, 2, 3, 7, 0, 0, TimeSpan.Zero);
        string Token(int length, string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") =>
            new(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        string Uuid() => Token(22, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
        string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        var customers = new List<JsonObject>();
        for (var i = 0; i < 8; i++)
        {
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            customers.Add(new JsonObject
            {
                ["first_name"] = Capital(first),
                ["last_name"] = Capital(last),
                ["email"] = $"{first}.{last}{random.Next(10, 99)}@{(random.Next(2) == 0 ? "gmail.com" : "outlook.com")}",
                ["phone"] = $"+49 15{random.Next(1, 9)} {random.Next(1_000_000, 9_999_999)}",
                ["address"] = new JsonObject { ["city"] = Cities[random.Next(Cities.Length)], ["street"] = $"{Capital(last)}straße {random.Next(1, 120)}" },
                ["iban"] = $"DE{random.Next(10, 99)} {random.Next(1000, 9999)} {random.Next(1000, 9999)} {random.Next(1000, 9999)} {random.Next(1000, 9999)} {random.Next(10, 99)}",
                ["card_last4"] = random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture),
                ["created_at"] = Time(epoch.AddDays(random.Next(400))),
            });
        }
        var users = new List<JsonObject>();
        foreach (var (name, role) in new[] { ("admin", "superuser"), ("svc_backup", "snapshot_user"), ("kibana_system", "kibana_system"), ("m.weber", "analyst") })
        {
            users.Add(new JsonObject
            {
                ["username"] = name,
                ["role"] = role,
                ["password_hash"] = "$2a$10$" + Token(53, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                ["api_key"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(Token(20) + ":" + Token(22))),
                ["last_login_ip"] = $"10.{random.Next(0, 40)}.{random.Next(0, 255)}.{random.Next(2, 254)}",
                ["last_login"] = Time(epoch.AddDays(400 + random.Next(30))),
            });
        }
        var secrets = new List<JsonObject>
        {
            new() { ["service"] = "aws", ["access_key_id"] = "AKIA" + Token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), ["secret_access_key"] = Token(40), ["bucket"] = "prod-invoices-" + Token(6, "abcdefghijklmnopqrstuvwxyz") },
            new() { ["service"] = "postgres", ["host"] = $"10.{random.Next(0, 40)}.3.{random.Next(2, 254)}", ["user"] = "app_rw", ["password"] = Token(18) },
            new() { ["service"] = "stripe", ["secret_key"] = "sk_live_" + Token(24), ["webhook_secret"] = "whsec_" + Token(32) },
            new() { ["service"] = "smtp", ["host"] = "smtp.mailgun.org", ["user"] = "postmaster@mg.example-shop.eu", ["password"] = Token(32, "abcdef0123456789") + "-" + Token(8, "abcdef0123456789") },
        };
        var logs = new List<JsonObject>();
        var day = epoch.AddDays(410);
        for (var i = 0; i < 12; i++)
        {
            var status = random.Next(10) == 0 ? 500 : random.Next(6) == 0 ? 401 : 200;
            logs.Add(new JsonObject
            {
                ["@timestamp"] = Time(day.AddMinutes(i * 7 + random.Next(7))),
                ["level"] = status == 500 ? "ERROR" : "INFO",
                ["client_ip"] = $"{random.Next(30, 220)}.{random.Next(0, 255)}.{random.Next(0, 255)}.{random.Next(1, 254)}",
                ["method"] = random.Next(3) == 0 ? "POST" : "GET",
                ["path"] = Paths[random.Next(Paths.Length)],
                ["status"] = status,
                ["message"] = status == 500 ? "upstream payment gateway timeout" : "request completed",
            });
        }

        EsIndex Index(string name, IReadOnlyList<JsonObject> documents) =>
            new(name, Uuid(), 4_096 + documents.Sum(d => d.ToJsonString().Length * 3L),
                [.. documents.Select(d => Document(Token(20, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), d))],
                Mappings(documents));
        return
        [
            Index("app-secrets", secrets),
            Index("customers", customers),
            Index("logs-app-" + day.ToString("yyyy.MM.dd", CultureInfo.InvariantCulture), logs),
            Index("users", users),
        ];
    }

    private static string Capital(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    private static EsDocument Document(string id, JsonObject source)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        Flatten(source, string.Empty, fields);
        return new EsDocument(id, source.ToJsonString(), fields);
    }

    private static void Flatten(JsonObject node, string prefix, Dictionary<string, string> fields)
    {
        foreach (var (name, value) in node)
        {
            if (value is JsonObject child)
            {
                Flatten(child, prefix + name + ".", fields);
            }
            else if (value is not null)
            {
                fields[prefix + name] = value.ToString();
            }
        }
    }

    /// <summary>Dynamic mappings as Elasticsearch infers them: text with a keyword sub-field, long, date.</summary>
    private static Dictionary<string, string> Mappings(IReadOnlyList<JsonObject> documents)
    {
        var mappings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            foreach (var (name, value) in document.Where(p => p.Value is not JsonObject))
            {
                mappings[name] = value?.GetValueKind() == System.Text.Json.JsonValueKind.Number ? "long"
                    : name.Contains("time", StringComparison.Ordinal) || name.EndsWith("_at", StringComparison.Ordinal) || name == "last_login" ? "date"
                    : "text";
            }
            foreach (var (name, _) in document.Where(p => p.Value is JsonObject))
            {
                mappings[name] = "object";
            }
        }
        return mappings;
    }
}
