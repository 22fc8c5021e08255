using System.Security.Cryptography;
using System.Text.Json;
using Aap.Api.Platform.Configuration;

namespace Aap.Api.Platform.Security;

/// <summary>A key generated for a development machine: an id to name it by and base64 of its random bytes.</summary>
internal sealed record DevelopmentKey(string Id, string Key);

/// <summary>
/// Keys for a machine that has none configured (Development): each is generated once, 48 random bytes, into
/// <c>$AAP_DATA_DIR/keys/&lt;name&gt;.json</c> and read back on every later start, so that a restart does not end
/// the sessions or links it signed. Outside Development each key's options validator requires a configured key.
/// </summary>
internal static class DevelopmentKeys
{
    /// <summary>The key stored under <paramref name="name"/> (a file name without folder), created the first time.</summary>
    public static DevelopmentKey LoadOrCreate(DataDirectory dataDirectory, string name)
    {
        var path = Path.Combine(dataDirectory.Folder("keys"), name);
        if (!File.Exists(path))
        {
            var created = new DevelopmentKey($"dev-{Guid.NewGuid():N}"[..12], Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)));
            try
            {
                using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                JsonSerializer.Serialize(file, created);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }

        return JsonSerializer.Deserialize<DevelopmentKey>(File.ReadAllText(path))!;
    }
}
