using Decnet.Core.Audit;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Decnet.Core.Users;

/// <summary>
/// Accounts: login, password changes, and the admin's user management. Every authenticated request
/// looks its user up here, so lookups are cached briefly; every write invalidates the whole cache.
/// </summary>
public sealed class UserDirectory(
    IDbContextFactory<DecnetDbContext> dbFactory,
    PasswordHasher hasher,
    LoginThrottle throttle,
    AuditTrail audit,
    IMemoryCache cache,
    IOptions<UserOptions> options,
    ILogger<UserDirectory> logger)
{
    private CancellationTokenSource _generation = new();
    private readonly Lock _lookupGate = new();

    /// <summary>
    /// The user behind a cookie or token, from a short-lived cache. Single flight: when the entry expires
    /// under load, the hundreds of requests in flight share one query instead of each running its own.
    /// </summary>
    public Task<UserSnapshot?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var key = ("user", id);
        if (!cache.TryGetValue(key, out Task<UserSnapshot?>? lookup) || lookup is null)
        {
            lock (_lookupGate)
            {
                if (!cache.TryGetValue(key, out lookup) || lookup is null)
                {
                    // Captured before the query: a write during it expires the entry at once.
                    var generation = _generation;
                    lookup = Task.Run(() => LoadSnapshotAsync(id));
                    // Misses are cached too: a deleted user's token keeps failing without a query per request.
                    cache.Set(key, lookup, new MemoryCacheEntryOptions()
                        .SetAbsoluteExpiration(options.Value.LookupCacheDuration)
                        .AddExpirationToken(new CancellationChangeToken(generation.Token)));
                    var started = lookup;
                    _ = started.ContinueWith(
                        _ =>
                        {
                            // A failed query is not remembered; the next request tries again.
                            if (cache.TryGetValue(key, out Task<UserSnapshot?>? current) && ReferenceEquals(current, started))
                            {
                                cache.Remove(key);
                            }
                        },
                        CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
                }
            }
        }
        return lookup.IsCompleted ? lookup : lookup.WaitAsync(cancellationToken);
    }

    /// <summary>Runs without a caller's token: the requests sharing it may each give up, the query does not.</summary>
    private async Task<UserSnapshot?> LoadSnapshotAsync(Guid id)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, CancellationToken.None);
        return user is null ? null : UserSnapshot.From(user);
    }

    public async Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().OrderBy(u => u.Username).ToListAsync(cancellationToken);
    }

    public async Task<LoginResult> LoginAsync(string? username, string? password, string clientAddress, CancellationToken cancellationToken)
    {
        // Attacker-chosen: bounded before it keys the throttle, escaped before it reaches a log line.
        var name = LoginName.Bound(username);
        var decision = throttle.Check(clientAddress, name);
        if (!decision.IsAllowed)
        {
            logger.LogWarning("Login refused for {Username} from {Address}: {Reason}", LoginName.ForLog(username), clientAddress, decision.Reason);
            return new LoginResult(LoginOutcome.Throttled, RetryAfter: decision.RetryAfter, Reason: decision.Reason);
        }
        // From here the attempt counts as a failure unless it succeeds.
        if (!PasswordPolicy.IsAcceptableLoginInput(name, password))
        {
            logger.LogWarning("Failed login for {Username} from {Address}: malformed input", LoginName.ForLog(username), clientAddress);
            return new LoginResult(LoginOutcome.InvalidCredentials);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Username == name, cancellationToken);
        var valid = await hasher.VerifyAsync(password!, user?.PasswordHash, cancellationToken);
        if (!valid || user is null)
        {
            logger.LogWarning("Failed login for {Username} from {Address}", LoginName.ForLog(username), clientAddress);
            return new LoginResult(LoginOutcome.InvalidCredentials);
        }
        throttle.RecordSuccess(decision);
        user.LastLoginAt = DateTime.UtcNow;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Login of {Username} from {Address}", user.Username, clientAddress);
        return new LoginResult(LoginOutcome.Success, user);
    }

    public async Task<UserOperation> ChangePasswordAsync(Guid id, string currentPassword, string newPassword, CancellationToken cancellationToken)
    {
        var errors = PasswordPolicy.Validate(newPassword);
        if (errors.Count > 0)
        {
            return UserOperation.Invalid(errors);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return UserOperation.Fail(UserOperationStatus.NotFound, "User not found.");
        }
        if (!await hasher.VerifyAsync(currentPassword ?? "", user.PasswordHash, cancellationToken))
        {
            logger.LogWarning("Password change for {Username} refused: wrong current password", user.Username);
            return UserOperation.Fail(UserOperationStatus.Unauthorized, "Current password is wrong.");
        }
        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            return UserOperation.Invalid(["New password must differ from the current one."]);
        }
        user.PasswordHash = await hasher.HashAsync(newPassword, cancellationToken);
        user.MustChangePassword = false;
        user.PasswordChangedAt = DateTime.UtcNow;
        user.SecurityStamp = User.NewStamp();
        await db.SaveChangesAsync(cancellationToken);
        Invalidate();
        await audit.RecordAsync(user.Username, "user.password_changed", user.Username, null, cancellationToken);
        return UserOperation.Ok(user);
    }

    public async Task<UserOperation> CreateAsync(string actor, string username, string password, UserRole role, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        if (UsernameRules.Validate(username) is { } usernameError)
        {
            errors.Add(usernameError);
        }
        errors.AddRange(PasswordPolicy.Validate(password));
        if (errors.Count > 0)
        {
            return UserOperation.Invalid(errors);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Users.AnyAsync(u => u.Username == username, cancellationToken))
        {
            return UserOperation.Fail(UserOperationStatus.Conflict, $"User '{username}' already exists.");
        }
        var user = new User
        {
            Username = username,
            PasswordHash = await hasher.HashAsync(password, cancellationToken),
            Role = role,
            MustChangePassword = true,
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return UserOperation.Fail(UserOperationStatus.Conflict, $"User '{username}' already exists.");
        }
        Invalidate();
        await audit.RecordAsync(actor, "user.created", username, role.ToWire(), cancellationToken);
        return UserOperation.Ok(user);
    }

    public Task<UserOperation> SetRoleAsync(Guid actorId, string actor, Guid id, UserRole role, CancellationToken cancellationToken) =>
        UpdateOtherAsync(actorId, actor, id, "change your own role", "user.role_changed", role.ToWire(), (user, _) =>
        {
            user.Role = role;
            user.SecurityStamp = User.NewStamp();
            return Task.CompletedTask;
        }, cancellationToken);

    public async Task<UserOperation> ResetPasswordAsync(Guid actorId, string actor, Guid id, string newPassword, CancellationToken cancellationToken)
    {
        var errors = PasswordPolicy.Validate(newPassword);
        if (errors.Count > 0)
        {
            return UserOperation.Invalid(errors);
        }
        return await UpdateOtherAsync(actorId, actor, id, "reset your own password here (use change password)", "user.password_reset", null, async (user, ct) =>
        {
            user.PasswordHash = await hasher.HashAsync(newPassword, ct);
            user.MustChangePassword = true;
            user.SecurityStamp = User.NewStamp();
        }, cancellationToken);
    }

    public async Task<UserOperation> DeleteAsync(Guid actorId, string actor, Guid id, CancellationToken cancellationToken)
    {
        if (actorId == id)
        {
            return UserOperation.Fail(UserOperationStatus.Forbidden, "You cannot delete your own account.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return UserOperation.Fail(UserOperationStatus.NotFound, "User not found.");
        }
        db.Users.Remove(user);
        await db.SaveChangesAsync(cancellationToken);
        Invalidate();
        await audit.RecordAsync(actor, "user.deleted", user.Username, null, cancellationToken);
        return UserOperation.Ok(user);
    }

    /// <summary>Whether the user chose the light palette; false (dark) for an unknown user.</summary>
    public async Task<bool> PrefersLightThemeAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.LightTheme).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Keeps the user's palette choice; false when the user no longer exists.</summary>
    public async Task<bool> SetLightThemeAsync(Guid id, bool light, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(s => s.SetProperty(u => u.LightTheme, light), cancellationToken) > 0;
    }

    /// <summary>Logout revokes every cookie and token the user holds.</summary>
    public async Task RevokeSessionsAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(s => s.SetProperty(u => u.SecurityStamp, User.NewStamp()), cancellationToken);
        if (changed > 0)
        {
            Invalidate();
        }
    }

    /// <summary>
    /// Creates the configured administrator when it does not exist. While it still has to change its
    /// password, its hash follows the configured password, so a corrected environment heals itself.
    /// </summary>
    public async Task SeedAdministratorAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var admin = await db.Users.FirstOrDefaultAsync(u => u.Username == o.AdminUser, cancellationToken);
        if (admin is null)
        {
            db.Users.Add(new User
            {
                Username = o.AdminUser,
                PasswordHash = await hasher.HashAsync(o.AdminPassword, cancellationToken),
                Role = UserRole.Admin,
                MustChangePassword = true,
            });
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Seeded administrator {Username}; it must change its password at first login", o.AdminUser);
        }
        else if (admin.MustChangePassword && !await hasher.VerifyAsync(o.AdminPassword, admin.PasswordHash, cancellationToken))
        {
            admin.PasswordHash = await hasher.HashAsync(o.AdminPassword, cancellationToken);
            admin.SecurityStamp = User.NewStamp();
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Re-synced the initial password of administrator {Username} from configuration", o.AdminUser);
        }
        Invalidate();
    }

    /// <summary>
    /// Administrators that must still change their password and whose password is
    /// <paramref name="password"/> (the seed default): what an exposed dashboard must never offer.
    /// </summary>
    public async Task<IReadOnlyList<string>> AdministratorsStillUsingAsync(string password, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var candidates = await db.Users.AsNoTracking()
            .Where(u => u.Role == UserRole.Admin && u.MustChangePassword)
            .Select(u => new { u.Username, u.PasswordHash })
            .ToListAsync(cancellationToken);
        var found = new List<string>();
        foreach (var candidate in candidates)
        {
            if (await hasher.VerifyAsync(password, candidate.PasswordHash, cancellationToken))
            {
                found.Add(candidate.Username);
            }
        }
        return found;
    }

    private async Task<UserOperation> UpdateOtherAsync(Guid actorId, string actor, Guid id, string selfRefusal, string action, string? detail,
        Func<User, CancellationToken, Task> change, CancellationToken cancellationToken)
    {
        if (actorId == id)
        {
            return UserOperation.Fail(UserOperationStatus.Forbidden, $"You cannot {selfRefusal}.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return UserOperation.Fail(UserOperationStatus.NotFound, "User not found.");
        }
        await change(user, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        Invalidate();
        await audit.RecordAsync(actor, action, user.Username, detail, cancellationToken);
        return UserOperation.Ok(user);
    }

    private void Invalidate()
    {
        var previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        // Not disposed: a concurrent lookup may still read its token; an undisposed CTS holds no timer.
        previous.Cancel();
    }
}
