using System.Formats.Asn1;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Decnet.Core.Honeypots.Ldap;

/// <summary>
/// A search filter (RFC 4511 §4.5.1) read from the client's BER, evaluated against directory entries and
/// rendered in the RFC 4515 string form for the event log. Reading is bounded in depth and in node count,
/// so a hostile filter costs a fixed amount of work.
/// </summary>
public abstract record LdapFilter
{
    public const int MaxDepth = 16;
    public const int MaxNodes = 256;

    private const string BitwiseAnd = "1.2.840.113556.1.4.803";
    private const string BitwiseOr = "1.2.840.113556.1.4.804";

    public abstract bool Matches(LdapEntry entry);

    /// <summary>Reads one filter; <see cref="AsnContentException"/> when it is malformed or too large.</summary>
    public static LdapFilter Read(AsnReader reader)
    {
        var nodes = 0;
        return Read(reader, 0, ref nodes);
    }

    private static LdapFilter Read(AsnReader reader, int depth, ref int nodes)
    {
        if (depth > MaxDepth || ++nodes > MaxNodes)
        {
            throw new AsnContentException("filter too deep or too large");
        }
        var tag = reader.PeekTag();
        if (tag.TagClass != TagClass.ContextSpecific)
        {
            throw new AsnContentException("not a filter");
        }
        switch (tag.TagValue)
        {
            case 0 or 1:
            {
                var set = reader.ReadSetOf(skipSortOrderValidation: true, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue, isConstructed: true));
                var children = new List<LdapFilter>();
                while (set.HasData)
                {
                    children.Add(Read(set, depth + 1, ref nodes));
                }
                return tag.TagValue == 0 ? new And(children) : new Or(children);
            }
            case 2:
            {
                var inner = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true));
                var child = Read(inner, depth + 1, ref nodes);
                inner.ThrowIfNotEmpty();
                return new Not(child);
            }
            case 3 or 5 or 6 or 8:
            {
                var assertion = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, tag.TagValue, isConstructed: true));
                var attribute = Text(assertion.ReadOctetString());
                var value = assertion.ReadOctetString();
                return new Compare(attribute, value, tag.TagValue switch { 3 => "=", 5 => ">=", 6 => "<=", _ => "~=" });
            }
            case 4:
            {
                var sequence = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true));
                var attribute = Text(sequence.ReadOctetString());
                var parts = sequence.ReadSequence();
                byte[]? initial = null, final = null;
                var any = new List<byte[]>();
                while (parts.HasData)
                {
                    if (++nodes > MaxNodes)
                    {
                        throw new AsnContentException("filter too large");
                    }
                    var partTag = parts.PeekTag();
                    var value = parts.ReadOctetString(partTag);
                    switch (partTag.TagValue)
                    {
                        case 0:
                            initial = value;
                            break;
                        case 1:
                            any.Add(value);
                            break;
                        default:
                            final = value;
                            break;
                    }
                }
                return new Substrings(attribute, initial, any, final);
            }
            case 7:
                return new Present(Text(reader.ReadOctetString(tag)));
            case 9:
            {
                var sequence = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 9, isConstructed: true));
                string? rule = null, attribute = null;
                byte[] value = [];
                while (sequence.HasData)
                {
                    var partTag = sequence.PeekTag();
                    switch (partTag.TagValue)
                    {
                        case 1:
                            rule = Text(sequence.ReadOctetString(partTag));
                            break;
                        case 2:
                            attribute = Text(sequence.ReadOctetString(partTag));
                            break;
                        case 3:
                            value = sequence.ReadOctetString(partTag);
                            break;
                        default:
                            sequence.ReadEncodedValue();
                            break;
                    }
                }
                return new Extensible(rule, attribute, value);
            }
            default:
                throw new AsnContentException("unknown filter choice");
        }
    }

    private static string Text(byte[] value) => Encoding.UTF8.GetString(value);

    /// <summary>RFC 4515 escaping of an assertion value, so the logged filter is one unambiguous line.</summary>
    protected static string Escape(byte[] value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in value)
        {
            if (b is (byte)'*' or (byte)'(' or (byte)')' or (byte)'\\' or < 0x20 or >= 0x7F)
            {
                builder.Append('\\').Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }
        return builder.ToString();
    }

    protected static bool EqualsIgnoreCase(byte[] left, byte[] right) =>
        left.Length == right.Length && string.Equals(Encoding.UTF8.GetString(left), Encoding.UTF8.GetString(right), StringComparison.OrdinalIgnoreCase);

    public sealed record And(IReadOnlyList<LdapFilter> Children) : LdapFilter
    {
        public override bool Matches(LdapEntry entry) => Children.All(c => c.Matches(entry));

        public override string ToString() => "(&" + string.Concat(Children) + ")";
    }

    public sealed record Or(IReadOnlyList<LdapFilter> Children) : LdapFilter
    {
        public override bool Matches(LdapEntry entry) => Children.Any(c => c.Matches(entry));

        public override string ToString() => "(|" + string.Concat(Children) + ")";
    }

    public sealed record Not(LdapFilter Child) : LdapFilter
    {
        public override bool Matches(LdapEntry entry) => !Child.Matches(entry);

        public override string ToString() => "(!" + Child + ")";
    }

    public sealed record Present(string Attribute) : LdapFilter
    {
        public override bool Matches(LdapEntry entry) =>
            entry.Find(Attribute) is not null || string.Equals(Attribute, "objectClass", StringComparison.OrdinalIgnoreCase);

        public override string ToString() => $"({Attribute}=*)";
    }

    public sealed record Compare(string Attribute, byte[] Value, string Operator) : LdapFilter
    {
        public override bool Matches(LdapEntry entry)
        {
            if (entry.Find(Attribute) is not { } attribute)
            {
                return false;
            }
            return Operator switch
            {
                ">=" => attribute.Values.Any(v => Order(v, Value) >= 0),
                "<=" => attribute.Values.Any(v => Order(v, Value) <= 0),
                _ when string.Equals(Attribute, "objectCategory", StringComparison.OrdinalIgnoreCase) =>
                    // AD accepts the short class name (objectCategory=person) for the schema DN it stores.
                    attribute.Values.Any(v => EqualsIgnoreCase(v, Value) || CategoryName(v).Equals(Encoding.UTF8.GetString(Value), StringComparison.OrdinalIgnoreCase)),
                _ => attribute.Values.Any(v => EqualsIgnoreCase(v, Value)),
            };
        }

        private static string CategoryName(byte[] dn)
        {
            var text = Encoding.UTF8.GetString(dn);
            if (!text.StartsWith("CN=", StringComparison.OrdinalIgnoreCase))
            {
                return text;
            }
            var end = text.IndexOf(',', StringComparison.Ordinal);
            var name = text[3..(end < 0 ? text.Length : end)];
            return name == "Person" ? "person" : name;
        }

        private static int Order(byte[] left, byte[] right)
        {
            var a = Encoding.UTF8.GetString(left);
            var b = Encoding.UTF8.GetString(right);
            return BigInteger.TryParse(a, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x)
                && BigInteger.TryParse(b, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var y)
                ? x.CompareTo(y)
                : string.Compare(a, b, StringComparison.OrdinalIgnoreCase);
        }

        public override string ToString() => $"({Attribute}{Operator}{Escape(Value)})";
    }

    public sealed record Substrings(string Attribute, byte[]? Initial, IReadOnlyList<byte[]> Any, byte[]? Final) : LdapFilter
    {
        public override bool Matches(LdapEntry entry) =>
            entry.Find(Attribute) is { } attribute && attribute.Values.Any(v => Match(Encoding.UTF8.GetString(v)));

        private bool Match(string value)
        {
            var at = 0;
            if (Initial is not null)
            {
                var initial = Encoding.UTF8.GetString(Initial);
                if (!value.StartsWith(initial, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
                at = initial.Length;
            }
            foreach (var part in Any)
            {
                var found = value.IndexOf(Encoding.UTF8.GetString(part), at, StringComparison.OrdinalIgnoreCase);
                if (found < 0)
                {
                    return false;
                }
                at = found + Encoding.UTF8.GetString(part).Length;
            }
            if (Final is not null)
            {
                var final = Encoding.UTF8.GetString(Final);
                return value.Length - at >= final.Length && value.EndsWith(final, StringComparison.OrdinalIgnoreCase);
            }
            return true;
        }

        public override string ToString() =>
            $"({Attribute}={(Initial is null ? "" : Escape(Initial))}*{string.Concat(Any.Select(a => Escape(a) + "*"))}{(Final is null ? "" : Escape(Final))})";
    }

    /// <summary>Extensible match; AD's bitwise AND/OR rules (userAccountControl flags) are evaluated, others match nothing.</summary>
    public sealed record Extensible(string? Rule, string? Attribute, byte[] Value) : LdapFilter
    {
        public override bool Matches(LdapEntry entry)
        {
            if (Attribute is null || entry.Find(Attribute) is not { } attribute
                || !long.TryParse(Encoding.UTF8.GetString(Value), NumberStyles.Integer, CultureInfo.InvariantCulture, out var mask))
            {
                return false;
            }
            foreach (var value in attribute.Values)
            {
                if (long.TryParse(Encoding.UTF8.GetString(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
                    && ((Rule == BitwiseAnd && (number & mask) == mask) || (Rule == BitwiseOr && (number & mask) != 0)))
                {
                    return true;
                }
            }
            return false;
        }

        public override string ToString() => $"({Attribute}{(Rule is null ? "" : ":" + Rule)}:={Escape(Value)})";
    }
}
