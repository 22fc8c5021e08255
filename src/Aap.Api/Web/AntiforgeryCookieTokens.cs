using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;

namespace Aap.Api.Web;

/// <summary>
/// Antiforgery decrypts the token of the <c>aap_antiforgery</c> cookie on every page render and every form post: a
/// Data Protection <c>Unprotect</c> (a key derivation, an HMAC and an AES decryption: about a tenth of a signed-in
/// page's CPU). A browser sends the same cookie until it is replaced, and decrypting is a pure function of the bytes
/// and the key ring, so the plain bytes of a <b>cookie</b> token are remembered by its exact protected bytes for
/// <see cref="Lifetime"/> (at most <see cref="Remembered"/> cookies, then the memo starts again). Request tokens (one
/// per render) are decrypted every time and never remembered, and <c>Protect</c> is untouched: every page still carries
/// a new request token of its own, so a response never repeats a secret (what a compression side channel would need).
/// A cookie protected with a key revoked since is accepted at most <see cref="Lifetime"/> longer.
/// </summary>
internal sealed class AntiforgeryCookieTokens
{
    /// <summary>The purpose ASP.NET Core's antiforgery protects its tokens with.</summary>
    public const string Purpose = "Microsoft.AspNetCore.Antiforgery.AntiforgeryToken.v1";

    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public const int Remembered = 10_000;

    /// <summary>
    /// Makes the Data Protection provider that antiforgery asks for its protector remember cookie tokens; every other
    /// purpose gets the provider's own protector. Call after <c>AddAntiforgery</c> (which adds Data Protection).
    /// </summary>
    public static void Register(IServiceCollection services)
    {
        var original = services.LastOrDefault(d => d.ServiceType == typeof(IDataProtectionProvider))
            ?? throw new InvalidOperationException("Data Protection must be added before the antiforgery cookie memo.");
        services.Remove(original);
        services.AddSingleton<IDataProtectionProvider>(provider =>
        {
            var inner = original.ImplementationInstance as IDataProtectionProvider
                ?? original.ImplementationFactory?.Invoke(provider) as IDataProtectionProvider
                ?? (IDataProtectionProvider)ActivatorUtilities.CreateInstance(provider, original.ImplementationType!);
            return new Provider(inner, provider.GetRequiredService<TimeProvider>());
        });
    }

    private sealed class Provider(IDataProtectionProvider inner, TimeProvider clock) : IDataProtectionProvider
    {
        public IDataProtector CreateProtector(string purpose)
        {
            var protector = inner.CreateProtector(purpose);
            return purpose == Purpose ? new Protector(protector, clock) : protector;
        }
    }

    private sealed class Protector(IDataProtector inner, TimeProvider clock) : IDataProtector
    {
        private readonly ConcurrentDictionary<byte[], (byte[] Plain, long Until)> _memo = new(BytesComparer.Instance);

        public IDataProtector CreateProtector(string purpose) => inner.CreateProtector(purpose);

        public byte[] Protect(byte[] plaintext) => inner.Protect(plaintext);

        public byte[] Unprotect(byte[] protectedData)
        {
            var now = clock.GetUtcNow().UtcTicks;
            if (_memo.TryGetValue(protectedData, out var known) && known.Until > now)
            {
                return (byte[])known.Plain.Clone();
            }

            var plain = inner.Unprotect(protectedData);
            if (IsCookieToken(plain))
            {
                if (_memo.Count >= Remembered)
                {
                    _memo.Clear();
                }

                _memo[(byte[])protectedData.Clone()] = ((byte[])plain.Clone(), now + Lifetime.Ticks);
            }

            return plain;
        }

        // Antiforgery's format (version 1): the version byte, the 16-byte security token, then 1 for a cookie token,
        // which ends there. Anything else (a request token, another version) is not remembered.
        private static bool IsCookieToken(byte[] plain) => plain is [1, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 1];
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public static readonly BytesComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
