using Decnet.Web.Authentication;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Decnet.Tests.Web.Authentication;

/// <summary>Remembering validated bearer tokens never lets an altered, foreign or expired token through.</summary>
public sealed class ValidatedTokenCacheTests
{
    private static readonly SymmetricSecurityKey Key = new(Enumerable.Range(1, 64).Select(i => (byte)i).ToArray());

    private static TokenValidationParameters Parameters(SecurityKey key) => new()
    {
        ValidIssuer = "decnet",
        ValidAudience = "decnet-api",
        IssuerSigningKey = key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private static string Token(string subject, DateTime? expires = null, SecurityKey? key = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "decnet",
            Audience = "decnet-api",
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["role"] = "viewer" },
            IssuedAt = (expires ?? now.AddHours(1)).AddHours(-1),
            NotBefore = (expires ?? now.AddHours(1)).AddHours(-1),
            Expires = expires ?? now.AddHours(1),
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.HmacSha256),
        });
    }

    [Fact]
    public async Task A_token_validated_before_is_accepted_again_and_an_altered_copy_is_refused()
    {
        var cache = new ValidatedTokenCache();
        var token = Token("operator");
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(Key))).IsValid);
        var again = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.True(again.IsValid);
        Assert.Equal("operator", again.ClaimsIdentity.FindFirst("sub")?.Value);

        // Same header and signature, payload of another subject: the cache is keyed by the whole text.
        var parts = token.Split('.');
        var altered = string.Join('.', parts[0], Token("admin").Split('.')[1], parts[2]);
        Assert.False((await cache.ValidateTokenAsync(altered, Parameters(Key))).IsValid);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task A_cached_token_is_refused_when_the_signing_key_changes()
    {
        var cache = new ValidatedTokenCache();
        var token = Token("operator");
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(Key))).IsValid);
        var rotated = new SymmetricSecurityKey(new byte[64]);
        Assert.False((await cache.ValidateTokenAsync(token, Parameters(rotated))).IsValid);
    }

    [Fact]
    public async Task Expired_and_foreign_tokens_are_refused_and_never_remembered()
    {
        var cache = new ValidatedTokenCache();
        Assert.False((await cache.ValidateTokenAsync(Token("late", DateTime.UtcNow.AddMinutes(-5)), Parameters(Key))).IsValid);
        Assert.False((await cache.ValidateTokenAsync(Token("forged", key: new SymmetricSecurityKey(new byte[64])), Parameters(Key))).IsValid);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task The_table_never_grows_past_its_capacity()
    {
        var cache = new ValidatedTokenCache();
        for (var i = 0; i <= ValidatedTokenCache.Capacity; i++)
        {
            Assert.True((await cache.ValidateTokenAsync(Token("user-" + i), Parameters(Key))).IsValid);
        }
        Assert.InRange(cache.Count, 1, ValidatedTokenCache.Capacity);
    }
}
