using System.Net;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Exposure;

/// <summary>
/// Reverse proxies in front of the dashboard whose X-Forwarded-For / X-Forwarded-Proto headers are
/// believed. Empty (the default): no forwarded header is read, the client is the TCP peer.
/// </summary>
public sealed class TrustedProxyOptions
{
    public const string Section = "Decnet:Web:ForwardedHeaders";

    /// <summary>Addresses or CIDR networks, separated by commas (DECNET_KNOWN_PROXIES), e.g. <c>10.0.0.5, 10.1.0.0/24</c>.</summary>
    public string? KnownProxies { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(KnownProxies);

    public IReadOnlyList<string> Entries() =>
        (KnownProxies ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every entry as a network (a single address is a /32 or /128); null when an entry is invalid.</summary>
    public static IPNetwork? Parse(string entry)
    {
        if (IPNetwork.TryParse(entry, out var network))
        {
            return network;
        }
        return IPAddress.TryParse(entry, out var address)
            ? new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            : null;
    }
}

/// <summary>Names every entry that is neither an address nor a network.</summary>
public sealed class TrustedProxyOptionsValidator : IValidateOptions<TrustedProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustedProxyOptions options)
    {
        var errors = options.Entries()
            .Where(entry => TrustedProxyOptions.Parse(entry) is null)
            .Select(entry => $"{TrustedProxyOptions.Section}:KnownProxies (DECNET_KNOWN_PROXIES): '{entry}' is neither an IP address nor a CIDR network such as 10.0.0.0/24.")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
