using Decnet.Core.Text;

namespace Decnet.Core.Users;

/// <summary>
/// A username as typed at a login prompt: anyone on the network chooses it. It is cut short before
/// it keys the throttle (bounded memory per key) and escaped before it reaches a log line.
/// </summary>
public static class LoginName
{
    /// <summary>
    /// At most one character past the longest valid username: still recognisably too long (so it can
    /// never match an account), never megabytes.
    /// </summary>
    public static string Bound(string? typed) =>
        typed is null ? "" : typed.Length <= UsernameRules.MaximumLength ? typed : typed[..(UsernameRules.MaximumLength + 1)];

    /// <summary>One log-safe line: CR/LF and other control characters escaped, cut at the maximum length.</summary>
    public static string ForLog(string? typed) => UntrustedText.ForLog(typed, UsernameRules.MaximumLength);
}
