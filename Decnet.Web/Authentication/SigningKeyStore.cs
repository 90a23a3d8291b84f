using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Storage;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Decnet.Web.Authentication;

/// <summary>
/// The HMAC key that signs API tokens: the configured secret, or a random 64-byte key generated on
/// first start and kept in the data folder with owner-only permissions.
/// </summary>
public sealed class SigningKeyStore(IOptions<AuthOptions> auth, IOptions<StorageOptions> storage, ILogger<SigningKeyStore> logger)
{
    private const string KeyFileName = "jwt-signing.key";
    private readonly Lazy<SymmetricSecurityKey> _key = new(() => Load(auth.Value, storage.Value, logger));

    public SymmetricSecurityKey Key => _key.Value;

    private static SymmetricSecurityKey Load(AuthOptions auth, StorageOptions storage, ILogger logger)
    {
        if (!string.IsNullOrEmpty(auth.JwtSecret))
        {
            return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.JwtSecret));
        }
        var path = Path.Combine(storage.DataPath, KeyFileName);
        if (File.Exists(path))
        {
            return new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(path).Trim()));
        }
        Directory.CreateDirectory(storage.DataPath);
        var bytes = RandomNumberGenerator.GetBytes(64);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using var writer = new StreamWriter(path, Encoding.ASCII, options);
            writer.Write(Convert.ToBase64String(bytes));
            logger.LogInformation("Generated a new API token signing key in {Path}", path);
            return new SymmetricSecurityKey(bytes);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            return new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(path).Trim()));
        }
    }
}
