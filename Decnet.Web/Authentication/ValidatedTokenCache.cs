using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Decnet.Web.Authentication;

/// <summary>
/// The bearer token handler of the API, remembering tokens it has already validated. A dashboard or a
/// script polls with the same token many times a second; parsing it and checking its HMAC each time
/// was a quarter of a cached API request's CPU under load.
/// </summary>
/// <remarks>
/// <para>Only successful validations are kept, keyed by the exact token text, and only until the token's
/// own expiry or <see cref="MaxAge"/>, whichever comes first. A forged or altered token is never a hit
/// and is validated in full every time.</para>
/// <para>This caches the signature, issuer, audience and lifetime checks only. Revocation is not cached
/// here: every request still goes through <see cref="SessionValidator"/> (deleted user, rotated security
/// stamp after logout or a password or role change), which replaces the principal built from the token.</para>
/// <para>Bounded: at <see cref="Capacity"/> tokens the table is emptied and refills from live traffic.</para>
/// </remarks>
public sealed class ValidatedTokenCache : JsonWebTokenHandler
{
    public const int Capacity = 10_000;
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Validated> _validated = new(StringComparer.Ordinal);

    public ValidatedTokenCache()
    {
        MapInboundClaims = false;
    }

    public int Count => _validated.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        // The base handler checks lifetimes against the system clock; so does the expiry here.
        var now = DateTime.UtcNow;
        if (_validated.TryGetValue(token, out var known))
        {
            if (now < known.Until && known.Matches(validationParameters))
            {
                return known.Result;
            }
            _validated.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt)
        {
            var until = jwt.ValidTo < now + MaxAge ? jwt.ValidTo : now + MaxAge;
            if (_validated.Count >= Capacity)
            {
                _validated.Clear();
            }
            _validated[token] = new Validated(result, validationParameters.IssuerSigningKey, validationParameters.ValidIssuer, validationParameters.ValidAudience, until);
        }
        return result;
    }

    /// <summary>
    /// The result is tied to what it was validated against: another signing key, issuer or audience starts afresh.
    /// (The bearer handler passes a fresh copy of its parameters per request, so the copies are compared by content.)
    /// </summary>
    private sealed record Validated(TokenValidationResult Result, SecurityKey Key, string Issuer, string Audience, DateTime Until)
    {
        public bool Matches(TokenValidationParameters parameters) =>
            ReferenceEquals(Key, parameters.IssuerSigningKey)
            && string.Equals(Issuer, parameters.ValidIssuer, StringComparison.Ordinal)
            && string.Equals(Audience, parameters.ValidAudience, StringComparison.Ordinal);
    }
}
