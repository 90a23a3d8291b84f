using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Users;

[Trait("Category", TestCategories.Unit)]
public sealed class PasswordPolicyTests
{
    [Fact]
    public void A_twelve_character_password_is_accepted() =>
        Assert.Empty(PasswordPolicy.Validate("abcdefghijkl"));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void A_blank_password_is_refused(string? password) =>
        Assert.Contains("Password must not be empty.", PasswordPolicy.Validate(password));

    [Fact]
    public void An_eleven_character_password_is_refused_with_its_length()
    {
        var errors = PasswordPolicy.Validate("abcdefghijk");
        var error = Assert.Single(errors);
        Assert.Contains("at least 12 characters", error, StringComparison.Ordinal);
        Assert.Contains("it has 11", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_over_72_bytes_is_refused_even_when_it_has_fewer_characters()
    {
        // 40 characters, 80 bytes in UTF-8: bcrypt would silently ignore the tail.
        var password = new string('é', 40);
        var error = Assert.Single(PasswordPolicy.Validate(password));
        Assert.Contains("at most 72 bytes", error, StringComparison.Ordinal);
        Assert.Contains("it has 80", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Exactly_72_bytes_is_accepted() =>
        Assert.Empty(PasswordPolicy.Validate(new string('x', 72)));

    [Theory]
    [InlineData("alice", null)]
    [InlineData("ops.team-1@soc", null)]
    [InlineData("", "Username must not be empty.")]
    [InlineData("bad name", "Username may contain only letters, digits and . _ - @.")]
    [InlineData("x'; DROP TABLE users;--", "Username may contain only letters, digits and . _ - @.")]
    public void Usernames_are_checked(string username, string? expected) =>
        Assert.Equal(expected, UsernameRules.Validate(username));
}
