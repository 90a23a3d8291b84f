namespace Decnet.Core.Users;

public enum UserOperationStatus
{
    Ok,
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
    Unauthorized,
}

/// <summary>The outcome of a user write: pages show the errors, the API maps the status to an HTTP code.</summary>
public sealed record UserOperation(UserOperationStatus Status, IReadOnlyList<string> Errors, User? User = null)
{
    public bool Succeeded => Status == UserOperationStatus.Ok;

    public static UserOperation Ok(User? user = null) => new(UserOperationStatus.Ok, [], user);

    public static UserOperation Fail(UserOperationStatus status, params string[] errors) => new(status, errors);

    public static UserOperation Invalid(IReadOnlyList<string> errors) => new(UserOperationStatus.Invalid, errors);
}

public enum LoginOutcome
{
    Success,
    InvalidCredentials,
    Throttled,
}

public sealed record LoginResult(LoginOutcome Outcome, User? User = null, TimeSpan RetryAfter = default, string? Reason = null);

/// <summary>What the authentication layer needs of a user on every request; cached.</summary>
public sealed record UserSnapshot(Guid Id, string Username, UserRole Role, bool MustChangePassword, string SecurityStamp)
{
    public static UserSnapshot From(User user) => new(user.Id, user.Username, user.Role, user.MustChangePassword, user.SecurityStamp);
}
