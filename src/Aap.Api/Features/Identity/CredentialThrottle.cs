using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.RateLimiting;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Identity.LoginAttemptConfiguration))]

namespace Aap.Api.Features.Identity;

/// <summary>Whether a password may be checked now; when not, how long until it may.</summary>
internal readonly record struct AttemptDecision(bool Allowed, TimeSpan RetryAfter)
{
    public static readonly AttemptDecision Allow = new(true, TimeSpan.Zero);
}

/// <summary>
/// Limits password guessing, for every way a password is checked (logins of every dialect, Basic credentials,
/// the current password of a password change). An attempt is taken <em>before</em> the password is hashed, so a
/// refused guess costs no hash, and it is counted atomically in the database, so concurrent guesses cannot slip
/// past the limit and every node sees the same counts. Three limits apply, in this order:
/// <list type="number">
/// <item>per client address, over all accounts (in memory, per node): <c>Auth:RateLimitPermits</c> per
/// <c>Auth:RateLimitWindowSeconds</c>;</item>
/// <item>per account and client address: <c>Auth:MaxFailedAttempts</c> per <c>Auth:LockoutMinutes</c>, so that an
/// attacker hammering an account from one address does not lock its owner out on another;</item>
/// <item>per account over all addresses: <c>Auth:MaxAccountAttemptsPerHour</c>, the ceiling for an attacker with
/// many addresses.</item>
/// </list>
/// A successful check gives its attempt back and clears the account's count for that address. The account key is
/// the user id when the account exists and the normalised login when it does not, so the same work is done either
/// way and the answers do not tell which accounts exist.
/// </summary>
internal sealed class CredentialThrottle(AppDbContext db, AddressAttemptLimiter addresses, IOptions<AuthOptions> options, TimeProvider clock)
{
    private static long _lastSweepMs;

    /// <summary>The throttle key of an existing account.</summary>
    public static string AccountKey(long userId) => "u:" + userId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The throttle key of a login that names no account.</summary>
    public static string UnknownLoginKey(string login) =>
        "l:" + login.Trim().Normalize(NormalizationForm.FormC).ToUpperInvariant();

    /// <summary>The per-address check alone: made before anything else, even before the account is looked up.</summary>
    public AttemptDecision TryAddress(IPAddress? address) => addresses.TryTake(address);

    /// <summary>Takes one attempt for this account from this address, or says how long to wait.</summary>
    public async Task<AttemptDecision> TryTakeAsync(string accountKey, IPAddress? address, CancellationToken cancellationToken)
    {
        var auth = options.Value;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await SweepAsync(now, cancellationToken);
        var pair = await TakeAsync(PairKey(accountKey, address), auth.MaxFailedAttempts, TimeSpan.FromMinutes(auth.LockoutMinutes), now, cancellationToken);
        if (!pair.Allowed)
        {
            return pair;
        }

        return await TakeAsync(accountKey, auth.MaxAccountAttemptsPerHour, TimeSpan.FromHours(1), now, cancellationToken);
    }

    /// <summary>After a correct password: the attempt is given back and this address starts again from zero.</summary>
    public Task ForgiveAsync(string accountKey, IPAddress? address, CancellationToken cancellationToken) =>
        ScalarAsync(
            """
            DELETE FROM login_attempts WHERE "key" = @pair;
            UPDATE login_attempts SET attempts = attempts - 1 WHERE "key" = @account AND attempts > 0;
            """,
            cancellationToken,
            ("pair", PairKey(accountKey, address)),
            ("account", accountKey));

    /// <summary>
    /// Forgets every count of an account (an admin clearing a lock-out): those kept under its id, and those kept under
    /// its <paramref name="logins"/> (user name, e-mail) from guesses made before the account existed.
    /// </summary>
    public async Task<int> ClearAsync(long userId, IEnumerable<string?> logins, CancellationToken cancellationToken)
    {
        var cleared = 0;
        foreach (var key in logins.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => UnknownLoginKey(l!)).Prepend(AccountKey(userId)))
        {
            cleared += await db.Set<LoginAttempt>().Where(a => a.Key == key || a.Key.StartsWith(key + "|")).ExecuteDeleteAsync(cancellationToken);
        }

        return cleared;
    }

    /// <summary>
    /// Until when the account is refused a password check from every address (its hourly ceiling is reached), or from
    /// some address (the per-address limit is reached there): the latest of these, or null when nothing holds it back.
    /// </summary>
    public async Task<DateTime?> LockedUntilAsync(long userId, CancellationToken cancellationToken)
    {
        var auth = options.Value;
        var key = AccountKey(userId);
        var rows = await db.Set<LoginAttempt>().AsNoTracking().Where(a => a.Key == key || a.Key.StartsWith(key + "|")).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var until = rows
            .Select(a => a.Key == key
                ? (a.Attempts >= auth.MaxAccountAttemptsPerHour ? a.WindowStartMs + (long)TimeSpan.FromHours(1).TotalMilliseconds : 0)
                : (a.Attempts >= auth.MaxFailedAttempts ? a.WindowStartMs + (long)TimeSpan.FromMinutes(auth.LockoutMinutes).TotalMilliseconds : 0))
            .DefaultIfEmpty(0).Max();
        return until > now ? DateTimeOffset.FromUnixTimeMilliseconds(until).UtcDateTime : null;
    }

    private static string PairKey(string accountKey, IPAddress? address) =>
        accountKey + "|" + (address?.ToString() ?? "unknown");

    // One statement takes an attempt or refuses it: it starts a new window when the old one is over, counts one
    // more while under the limit, and changes nothing (returning no row) at the limit.
    private async Task<AttemptDecision> TakeAsync(string key, int limit, TimeSpan window, long now, CancellationToken cancellationToken)
    {
        var expired = now - (long)window.TotalMilliseconds;
        var taken = await ScalarAsync(
            """
            INSERT INTO login_attempts ("key", window_start_ms, attempts) VALUES (@key, @now, 1)
            ON CONFLICT ("key") DO UPDATE SET
                attempts = CASE WHEN login_attempts.window_start_ms <= @expired THEN 1 ELSE login_attempts.attempts + 1 END,
                window_start_ms = CASE WHEN login_attempts.window_start_ms <= @expired THEN @now ELSE login_attempts.window_start_ms END
            WHERE login_attempts.window_start_ms <= @expired OR login_attempts.attempts < @limit
            RETURNING attempts;
            """,
            cancellationToken,
            ("key", key), ("now", now), ("expired", expired), ("limit", limit));
        if (taken is not null)
        {
            return AttemptDecision.Allow;
        }

        var started = await db.Set<LoginAttempt>().AsNoTracking().Where(a => a.Key == key).Select(a => (long?)a.WindowStartMs).SingleOrDefaultAsync(cancellationToken) ?? now;
        var wait = TimeSpan.FromMilliseconds(Math.Max(1000, started + (long)window.TotalMilliseconds - now));
        return new AttemptDecision(false, wait);
    }

    // Counters whose window is over are only history: one node removes them now and then.
    private async Task SweepAsync(long now, CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref _lastSweepMs);
        if (now - last < 600_000 || Interlocked.CompareExchange(ref _lastSweepMs, now, last) != last)
        {
            return;
        }

        var auth = options.Value;
        var oldest = now - (long)Math.Max(TimeSpan.FromHours(1).TotalMilliseconds, TimeSpan.FromMinutes(auth.LockoutMinutes).TotalMilliseconds);
        await db.Set<LoginAttempt>().Where(a => a.WindowStartMs < oldest).ExecuteDeleteAsync(cancellationToken);
    }

    // The connection is the context's own (and its transaction, if any); it is given back after one command.
    private async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = await CommandAsync(sql, parameters, cancellationToken);
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<DbCommand> CommandAsync(string sql, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}

/// <summary>
/// Password attempts per client address over all accounts, in memory on each node (a fixed window). Checked
/// before an account is even looked up.
/// </summary>
internal sealed class AddressAttemptLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public AddressAttemptLimiter(IOptions<AuthOptions> options)
    {
        var auth = options.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ =>
            new FixedWindowRateLimiterOptions
            {
                PermitLimit = auth.RateLimitPermits,
                Window = TimeSpan.FromSeconds(auth.RateLimitWindowSeconds),
                QueueLimit = 0,
            }));
    }

    public AttemptDecision TryTake(IPAddress? address)
    {
        using var lease = _limiter.AttemptAcquire(address?.ToString() ?? "unknown");
        if (lease.IsAcquired)
        {
            return AttemptDecision.Allow;
        }

        return new AttemptDecision(false, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>A counter of password attempts under one key, in a window that started at <see cref="WindowStartMs"/>.</summary>
internal sealed class LoginAttempt
{
    public required string Key { get; set; }

    /// <summary>Unix milliseconds: comparable the same way on every provider.</summary>
    public long WindowStartMs { get; set; }

    public int Attempts { get; set; }
}

internal sealed class LoginAttemptConfiguration : IEntityTypeConfiguration<LoginAttempt>
{
    public void Configure(EntityTypeBuilder<LoginAttempt> attempt)
    {
        attempt.ToTable("login_attempts");
        attempt.HasKey(a => a.Key);
        attempt.Property(a => a.Key).HasMaxLength(300);
        attempt.HasIndex(a => a.WindowStartMs);
    }
}
