using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Users;

[Trait("Category", TestCategories.Unit)]
public abstract class UserDirectoryTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : UserDirectoryTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : UserDirectoryTests(StorageProvider.Postgres);

    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(provider);

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task The_seeded_admin_logs_in_with_the_configured_password_and_must_change_it()
    {
        var result = await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None);
        Assert.Equal(LoginOutcome.Success, result.Outcome);
        Assert.Equal(UserRole.Admin, result.User!.Role);
        Assert.True(result.User.MustChangePassword);
    }

    [Fact]
    public async Task Changing_the_password_clears_the_flag_and_rotates_the_security_stamp()
    {
        var login = await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None);
        var before = login.User!.SecurityStamp;
        var changed = await _bed.Users.ChangePasswordAsync(login.User.Id, CoreTestBed.AdminPassword, "a-much-better-password", CancellationToken.None);
        Assert.True(changed.Succeeded);
        var now = await _bed.Users.FindAsync(login.User.Id, CancellationToken.None);
        Assert.False(now!.MustChangePassword);
        Assert.NotEqual(before, now.SecurityStamp);
        Assert.Equal(LoginOutcome.InvalidCredentials, (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).Outcome);
        Assert.Equal(LoginOutcome.Success, (await _bed.Users.LoginAsync("admin", "a-much-better-password", "127.0.0.1", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_new_password_must_meet_the_policy_and_the_current_one_must_be_right()
    {
        var admin = (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var tooShort = await _bed.Users.ChangePasswordAsync(admin.Id, CoreTestBed.AdminPassword, "short", CancellationToken.None);
        Assert.Equal(UserOperationStatus.Invalid, tooShort.Status);
        var wrongCurrent = await _bed.Users.ChangePasswordAsync(admin.Id, "not-the-password", "long-enough-password", CancellationToken.None);
        Assert.Equal(UserOperationStatus.Unauthorized, wrongCurrent.Status);
        var same = await _bed.Users.ChangePasswordAsync(admin.Id, CoreTestBed.AdminPassword, CoreTestBed.AdminPassword, CancellationToken.None);
        Assert.Equal(UserOperationStatus.Invalid, same.Status);
    }

    [Fact]
    public async Task Created_and_reset_users_must_change_their_password()
    {
        var admin = (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var created = await _bed.Users.CreateAsync("admin", "analyst", "temporary-password", UserRole.Viewer, CancellationToken.None);
        Assert.True(created.User!.MustChangePassword);
        await _bed.Users.ChangePasswordAsync(created.User.Id, "temporary-password", "analyst-own-password", CancellationToken.None);
        var reset = await _bed.Users.ResetPasswordAsync(admin.Id, "admin", created.User.Id, "another-temporary", CancellationToken.None);
        Assert.True(reset.Succeeded);
        Assert.True((await _bed.Users.FindAsync(created.User.Id, CancellationToken.None))!.MustChangePassword);
    }

    [Fact]
    public async Task An_admin_can_neither_delete_nor_re_role_itself()
    {
        var admin = (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        Assert.Equal(UserOperationStatus.Forbidden, (await _bed.Users.DeleteAsync(admin.Id, "admin", admin.Id, CancellationToken.None)).Status);
        Assert.Equal(UserOperationStatus.Forbidden, (await _bed.Users.SetRoleAsync(admin.Id, "admin", admin.Id, UserRole.Viewer, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Duplicate_usernames_conflict_regardless_of_case()
    {
        await _bed.Users.CreateAsync("admin", "Analyst", "temporary-password", UserRole.Viewer, CancellationToken.None);
        var second = await _bed.Users.CreateAsync("admin", "analyst", "temporary-password", UserRole.Viewer, CancellationToken.None);
        Assert.Equal(UserOperationStatus.Conflict, second.Status);
    }

    [Fact]
    public async Task Cached_lookups_see_writes_immediately()
    {
        var user = await _bed.CreateActiveUserAsync("cached", "cached-password-1", UserRole.Viewer);
        var admin = (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        Assert.Equal(UserRole.Viewer, (await _bed.Users.FindAsync(user.Id, CancellationToken.None))!.Role);
        await _bed.Users.SetRoleAsync(admin.Id, "admin", user.Id, UserRole.Admin, CancellationToken.None);
        Assert.Equal(UserRole.Admin, (await _bed.Users.FindAsync(user.Id, CancellationToken.None))!.Role);
        await _bed.Users.DeleteAsync(admin.Id, "admin", user.Id, CancellationToken.None);
        Assert.Null(await _bed.Users.FindAsync(user.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Repeated_failures_slow_the_guessing_address_but_not_the_admin_elsewhere()
    {
        await using var bed = await CoreTestBed.StartAsync(provider, new Dictionary<string, string?>
        {
            ["Decnet:Users:UsernameDelayBase"] = "00:10:00",
            ["Decnet:Users:UsernameDelayMax"] = "01:00:00",
        });
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(LoginOutcome.InvalidCredentials, (await bed.Users.LoginAsync("admin", "wrong-" + i, "10.1.1.1", CancellationToken.None)).Outcome);
        }
        // The guessing address now waits, even with the right password ...
        var slowed = await bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "10.1.1.1", CancellationToken.None);
        Assert.Equal(LoginOutcome.Throttled, slowed.Outcome);
        Assert.InRange(slowed.RetryAfter, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        // ... while the admin at an address that never failed signs in at once.
        Assert.Equal(LoginOutcome.Success, (await bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "10.1.1.2", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task The_seeded_admin_follows_a_corrected_configured_password_until_it_changes_it()
    {
        var options = new Dictionary<string, string?> { ["Decnet:Users:AdminPassword"] = "corrected-password" };
        await using var bed = await CoreTestBed.StartAsync(provider, options);
        Assert.Equal(LoginOutcome.Success, (await bed.Users.LoginAsync("admin", "corrected-password", "127.0.0.1", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Production_hashes_use_bcrypt_cost_12()
    {
        var hasher = new PasswordHasher(Microsoft.Extensions.Options.Options.Create(new UserOptions()));
        var hash = await hasher.HashAsync("some-password-123", CancellationToken.None);
        Assert.Matches(@"^\$2[aby]\$12\$", hash);
        Assert.True(await hasher.VerifyAsync("some-password-123", hash, CancellationToken.None));
        Assert.False(await hasher.VerifyAsync("other-password", hash, CancellationToken.None));
    }

    [Fact]
    public async Task Every_user_write_lands_in_the_audit_trail()
    {
        var admin = (await _bed.Users.LoginAsync("admin", CoreTestBed.AdminPassword, "127.0.0.1", CancellationToken.None)).User!;
        var created = await _bed.Users.CreateAsync("admin", "audited", "temporary-password", UserRole.Viewer, CancellationToken.None);
        await _bed.Users.DeleteAsync(admin.Id, "admin", created.User!.Id, CancellationToken.None);
        var audit = _bed.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>();
        var actions = (await audit.RecentAsync(10, CancellationToken.None)).Select(a => a.Action).ToList();
        Assert.Contains("user.created", actions);
        Assert.Contains("user.deleted", actions);
    }
}
