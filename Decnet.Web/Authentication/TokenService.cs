using System.Security.Claims;
using Decnet.Core.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Decnet.Web.Authentication;

/// <summary>Issues short-lived API tokens. Revocation works through the user's security stamp.</summary>
public sealed class TokenService(SigningKeyStore keys, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public IssuedToken Issue(UserSnapshot user)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var expires = now + options.Value.TokenLifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(DecnetClaims.For(user)),
            Issuer = AuthOptions.Issuer,
            Audience = AuthOptions.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
        });
        return new IssuedToken(token, (int)options.Value.TokenLifetime.TotalSeconds, user.MustChangePassword);
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = AuthOptions.Issuer,
        ValidAudience = AuthOptions.Audience,
        IssuerSigningKey = keys.Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        NameClaimType = DecnetClaims.Username,
        RoleClaimType = DecnetClaims.Role,
        ClockSkew = TimeSpan.FromSeconds(30),
    };
}

public sealed record IssuedToken(string AccessToken, int ExpiresIn, bool MustChangePassword);
