using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Aap.Api.Features.Identity;

/// <summary>
/// The HMAC keys access tokens are signed and validated with: the current key signs, previous keys still
/// validate. In Development without a configured key, one is generated once into <c>$AAP_DATA_DIR/keys</c>.
/// </summary>
internal sealed class SigningKeys
{
    public SigningKeys(IOptions<AuthOptions> options, DataDirectory dataDirectory)
    {
        var auth = options.Value;
        Current = string.IsNullOrWhiteSpace(auth.SigningKey)
            ? LoadOrCreateDevelopmentKey(dataDirectory)
            : Key(auth.SigningKeyId, auth.SigningKey);
        All = [Current, .. auth.PreviousSigningKeys.Select(p => Key(p.Id, p.Key))];
        SigningCredentials = new SigningCredentials(Current, SecurityAlgorithms.HmacSha256);
    }

    public SymmetricSecurityKey Current { get; }

    public IReadOnlyList<SymmetricSecurityKey> All { get; }

    public SigningCredentials SigningCredentials { get; }

    private static SymmetricSecurityKey Key(string id, string base64) =>
        KeyMaterial.TryDecode(base64, out var bytes) ? new SymmetricSecurityKey(bytes) { KeyId = id } : throw new InvalidOperationException($"Signing key '{id}' is not base64 of at least 32 bytes.");

    private static SymmetricSecurityKey LoadOrCreateDevelopmentKey(DataDirectory dataDirectory)
    {
        var stored = DevelopmentKeys.LoadOrCreate(dataDirectory, "jwt-signing-key.json");
        return Key(stored.Id, stored.Key);
    }
}
