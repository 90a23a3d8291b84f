using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Decnet.Core.Honeypots.Elasticsearch;

/// <summary>JSON the way Elasticsearch writes it: compact, or Jackson's pretty layout (<c>"key" : value</c>).</summary>
public static class EsJson
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(JsonNode? node, bool pretty)
    {
        if (!pretty)
        {
            return node?.ToJsonString(Compact) ?? "null";
        }
        var builder = new StringBuilder();
        WritePretty(builder, node, 0);
        return builder.Append('\n').ToString();
    }

    private static void WritePretty(StringBuilder builder, JsonNode? node, int depth)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count == 0:
                builder.Append("{ }");
                break;
            case JsonObject obj:
                builder.Append("{\n");
                var first = true;
                foreach (var (name, value) in obj)
                {
                    builder.Append(first ? "" : ",\n").Append(' ', (depth + 1) * 2).Append(JsonSerializer.Serialize(name, Compact)).Append(" : ");
                    WritePretty(builder, value, depth + 1);
                    first = false;
                }
                builder.Append('\n').Append(' ', depth * 2).Append('}');
                break;
            case JsonArray array when array.Count == 0:
                builder.Append("[ ]");
                break;
            case JsonArray array:
                builder.Append("[\n");
                for (var i = 0; i < array.Count; i++)
                {
                    builder.Append(i == 0 ? "" : ",\n").Append(' ', (depth + 1) * 2);
                    WritePretty(builder, array[i], depth + 1);
                }
                builder.Append('\n').Append(' ', depth * 2).Append(']');
                break;
            default:
                builder.Append(node?.ToJsonString(Compact) ?? "null");
                break;
        }
    }
}
