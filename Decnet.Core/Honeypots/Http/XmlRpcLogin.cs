using System.Xml;

namespace Decnet.Core.Honeypots.Http;

/// <summary>
/// WordPress brute forcers favour xmlrpc.php: methods such as wp.getUsersBlogs take the username and
/// password as their first two string parameters. This reads them from the (already size-capped) body
/// with an XML reader that resolves no DTDs or entities.
/// </summary>
public static class XmlRpcLogin
{
    private static readonly HashSet<string> CredentialMethods = new(StringComparer.Ordinal)
    {
        "wp.getUsersBlogs", "wp.getProfile", "wp.getUsers", "wp.getOptions", "metaWeblog.getUsersBlogs", "blogger.getUsersBlogs",
    };

    public const string Fault = """
        <?xml version="1.0" encoding="UTF-8"?>
        <methodResponse>
          <fault>
            <value>
              <struct>
                <member><name>faultCode</name><value><int>403</int></value></member>
                <member><name>faultString</name><value><string>Incorrect username or password.</string></value></member>
              </struct>
            </value>
          </fault>
        </methodResponse>

        """;

    public static bool TryExtract(byte[] body, out string username, out string password, out string method)
    {
        username = password = method = string.Empty;
        var strings = new List<string>(4);
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(body), new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = body.Length * 2L + 1024,
            });
            // Track the innermost open element: text directly inside <string> or an untyped <value> is a string parameter.
            string? element = null;
            var sawText = false;
            while (reader.Read() && strings.Count < 4)
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        element = reader.Name;
                        sawText = false;
                        if (reader.IsEmptyElement && element == "string")
                        {
                            strings.Add(string.Empty);
                        }
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA:
                        sawText = true;
                        if (element == "methodName")
                        {
                            method = reader.Value.Trim();
                        }
                        else if (element is "string" or "value")
                        {
                            strings.Add(reader.Value);
                        }
                        break;
                    case XmlNodeType.EndElement:
                        if (reader.Name == "string" && !sawText && element == "string")
                        {
                            strings.Add(string.Empty);
                        }
                        element = null;
                        break;
                }
            }
        }
        catch (XmlException)
        {
            return false;
        }
        var offset = method.StartsWith("blogger.", StringComparison.Ordinal) ? 1 : 0; // blogger.* takes an app key first
        if (!CredentialMethods.Contains(method) || strings.Count < offset + 2)
        {
            return false;
        }
        username = strings[offset];
        password = strings[offset + 1];
        return true;
    }
}
