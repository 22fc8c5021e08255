using System.Runtime.CompilerServices;

namespace Aap.Api.Web;

/// <summary>
/// A number per object instance, for the keys of cached page fragments (Razor's <c>&lt;cache&gt;</c> tag helper) that
/// render a value a feature serves from its own cache: while the feature hands out the same instance (a cache hit),
/// the fragment is reused; once it hands out another (its entry was evicted by a write or expired and was loaded again),
/// the key changes and the fragment is rendered anew. So a fragment is never staler than the feature's cache, and
/// needs no eviction of its own; superseded fragments expire after <see cref="Lifetime"/>.
/// </summary>
internal static class FragmentStamps
{
    /// <summary>How long a fragment stays in the tag helper's cache at most, whether or not it is still reached.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private static readonly ConditionalWeakTable<object, object> Stamps = new();
    private static long _last;

    /// <summary>The stamp of <paramref name="value"/>: the same for the same instance, different for any other.</summary>
    public static long Of(object value) => (long)Stamps.GetValue(value, static _ => (object)Interlocked.Increment(ref _last));
}
