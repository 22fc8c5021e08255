using Aap.Api.Platform.Persistence;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Web;

/// <summary>
/// A SQLite host for page tests: cookies without <c>Secure</c> (the tests speak plain HTTP to Kestrel, and neither a
/// cookie container nor every browser sends secure cookies there) and a lock-out after
/// <see cref="MaxFailedAttempts"/> wrong passwords, so that a test reaches it quickly. Tests share it per class and
/// use accounts of their own.
/// </summary>
public sealed class PagesFactory : AapFactory
{
    public const int MaxFailedAttempts = 3;

    public PagesFactory()
    {
        ForPages(this);
    }

    internal override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    /// <summary>The same settings on any factory (a <see cref="PostgresFactory"/>, say); call before it starts.</summary>
    public static T ForPages<T>(T factory) where T : AapFactory
    {
        factory.With("Auth:SecureCookies", "false").With("Auth:MaxFailedAttempts", MaxFailedAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return factory;
    }
}
