using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Components.Authorization;

namespace Decnet.Web.Components;

/// <summary>The signed-in operator, as components need it.</summary>
public sealed class CurrentOperator(AuthenticationStateProvider authentication)
{
    public async Task<OperatorInfo> GetAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return new OperatorInfo(user.GetUserId() ?? Guid.Empty, user.GetUsername(), user.IsAdmin());
    }
}

public sealed record OperatorInfo(Guid Id, string Username, bool IsAdmin);
