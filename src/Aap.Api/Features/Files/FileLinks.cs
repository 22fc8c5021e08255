using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Storage;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>
/// Signs and checks the download links of the local store (<c>/api/v1/files/{id}/content?expires=..&amp;signature=..</c>)
/// with <c>Storage:LinkSigningKey</c>, a key of their own: rotating the token signing key leaves every link working,
/// and rotating this one leaves every session. The current key signs; <c>Storage:PreviousLinkSigningKeys</c> still
/// validate until their links expire. In Development without a configured key, one is generated once into
/// <c>$AAP_DATA_DIR/keys</c>.
/// </summary>
internal sealed class FileLinks
{
    private readonly byte[] _current;
    private readonly IReadOnlyList<byte[]> _all;
    private readonly TimeProvider _clock;

    public FileLinks(IOptions<StorageOptions> options, DataDirectory dataDirectory, TimeProvider clock)
    {
        var storage = options.Value;
        var configured = string.IsNullOrWhiteSpace(storage.LinkSigningKey)
            ? DevelopmentKeys.LoadOrCreate(dataDirectory, "file-link-signing-key.json").Key
            : storage.LinkSigningKey;
        _current = Decode(configured, "Storage:LinkSigningKey");
        _all = [_current, .. storage.PreviousLinkSigningKeys.Select(key => Decode(key, "Storage:PreviousLinkSigningKeys"))];
        _clock = clock;
    }

    /// <summary>The signature of a link to file <paramref name="id"/> that expires at <paramref name="expires"/> (Unix seconds).</summary>
    public string Sign(long id, long expires) => Signature(_current, id, expires);

    /// <summary>The link has not expired and one of the keys signed it.</summary>
    public bool IsValid(long id, long expires, string? signature)
    {
        if (signature is null || expires < _clock.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(signature);
        var valid = false;
        foreach (var key in _all)
        {
            // Every key is compared, so the time taken does not tell which one matched.
            valid |= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Signature(key, id, expires)), given);
        }

        return valid;
    }

    private static string Signature(byte[] key, long id, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}.{expires}"))));

    private static byte[] Decode(string base64, string setting) =>
        KeyMaterial.TryDecode(base64, out var bytes) ? bytes : throw new InvalidOperationException($"{setting} is not base64 of at least 32 bytes.");
}
