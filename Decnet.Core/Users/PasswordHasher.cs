using Microsoft.Extensions.Options;

namespace Decnet.Core.Users;

/// <summary>
/// bcrypt hashing with a bounded number of concurrent hashes: at cost 12 each takes about 250 ms of
/// CPU, so a login flood must queue here instead of starving every other request.
/// </summary>
public sealed class PasswordHasher(IOptions<UserOptions> options)
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, Environment.ProcessorCount), Math.Max(1, Environment.ProcessorCount));

    // Verified against when the user does not exist, so timing does not reveal which usernames exist.
    private readonly Lazy<string> _decoyHash = new(() => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString("N"), options.Value.BcryptWorkFactor));

    public int WorkFactor => options.Value.BcryptWorkFactor;

    public async Task<string> HashAsync(string password, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => BCrypt.Net.BCrypt.HashPassword(password, WorkFactor), cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async Task<bool> VerifyAsync(string password, string? hash, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() =>
            {
                try
                {
                    return BCrypt.Net.BCrypt.Verify(password, hash ?? _decoyHash.Value) && hash is not null;
                }
                catch (BCrypt.Net.SaltParseException)
                {
                    return false;
                }
            }, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }
}
