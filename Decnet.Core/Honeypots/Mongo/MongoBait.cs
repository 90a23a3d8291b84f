using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Mongo;

/// <summary>One bait collection: its documents as the decky serves them.</summary>
public sealed record MongoCollection(string Name, IReadOnlyList<BsonDocument> Documents);

/// <summary>One bait database with its collections and the size it claims on disk.</summary>
public sealed record MongoDatabase(string Name, long SizeOnDisk, IReadOnlyList<MongoCollection> Collections);

/// <summary>
/// The databases an unauthenticated MongoDB decky exposes: the system ones and an online shop with users,
/// orders and live API keys. Generated from the hostname, so every visit to the same decky shows the same
/// secrets (a changing dataset would betray the honeypot) and two deckies never share them.
/// </summary>
public static class MongoBait
{
    private static readonly string[] FirstNames = ["olivia", "liam", "emma", "noah", "ava", "lucas", "mia", "ethan"];
    private static readonly string[] LastNames = ["miller", "garcia", "schmidt", "rossi", "novak", "jensen", "dubois", "kowalski"];

    public static IReadOnlyList<MongoDatabase> For(string hostname)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes("mongo:" + hostname)), 0);
        var random = new Random(seed);
        var epoch = new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);
        var counter = random.Next(1 << 20);
        BsonObjectId Id(DateTimeOffset at) => IdAt(random, at, ++counter);
        string Hex(int bytes) => Convert.ToHexStringLower(Enumerable.Range(0, bytes).Select(_ => (byte)random.Next(256)).ToArray());
        string Token(int length)
        {
            const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            return new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        }

        var users = new List<BsonDocument>();
        var orders = new List<BsonDocument>();
        for (var i = 0; i < 6; i++)
        {
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            var created = epoch.AddDays(random.Next(0, 400)).AddMinutes(random.Next(1440));
            var email = $"{first}.{last}{random.Next(10, 99)}@{(i == 0 ? "shop-admin.io" : "gmail.com")}";
            users.Add(new BsonDocument
            {
                { "_id", Id(created) },
                { "email", email },
                { "name", $"{char.ToUpperInvariant(first[0])}{first[1..]} {char.ToUpperInvariant(last[0])}{last[1..]}" },
                { "password", "$2b$10$" + Token(53) },
                { "role", i == 0 ? "admin" : "customer" },
                { "api_token", i == 0 ? "adm_" + Hex(20) : null },
                { "created_at", created },
            });
            for (var o = 0; o < 2; o++)
            {
                var placed = created.AddDays(random.Next(1, 60));
                orders.Add(new BsonDocument
                {
                    { "_id", Id(placed) },
                    { "user", email },
                    { "total", Math.Round(random.NextDouble() * 480 + 20, 2) },
                    { "currency", "EUR" },
                    { "status", random.Next(4) == 0 ? "refunded" : "paid" },
                    { "card_last4", random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture) },
                    { "placed_at", placed },
                });
            }
        }
        var secrets = new List<BsonDocument>
        {
            new() { { "_id", "stripe" }, { "secret_key", "sk_live_" + Token(24) }, { "webhook_secret", "whsec_" + Token(32) } },
            new() { { "_id", "aws" }, { "access_key_id", "AKIA" + Token(16).ToUpperInvariant() }, { "secret_access_key", Token(40) }, { "region", "eu-central-1" } },
            new() { { "_id", "smtp" }, { "host", "smtp.sendgrid.net" }, { "user", "apikey" }, { "password", "SG." + Token(22) + "." + Token(43) } },
        };
        var sessions = Enumerable.Range(0, 3).Select(_ => new BsonDocument
        {
            { "_id", Token(32) },
            { "user", users[random.Next(users.Count)].String("email") },
            { "expires", epoch.AddDays(430 + random.Next(30)) },
        }).ToList();

        return
        [
            new("admin", 40960, [new("system.version", [new BsonDocument { { "_id", "featureCompatibilityVersion" }, { "version", "7.0" } }])]),
            new("config", 110592, [new("system.sessions", [])]),
            new("local", 73728, [new("startup_log", [])]),
            new("shop", 2_457_600, [new("users", users), new("orders", orders), new("sessions", sessions)]),
            new("shop_config", 49152, [new("secrets", secrets)]),
        ];
    }

    private static BsonObjectId IdAt(Random random, DateTimeOffset time, int counter)
    {
        var bytes = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, (int)time.ToUnixTimeSeconds());
        random.NextBytes(bytes.AsSpan(4, 5));
        bytes[9] = (byte)(counter >> 16);
        bytes[10] = (byte)(counter >> 8);
        bytes[11] = (byte)counter;
        return new BsonObjectId(bytes);
    }
}
