using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

[assembly: EntityConfiguration(typeof(Aap.Api.Platform.Http.IdempotencyRecordConfiguration))]

namespace Aap.Api.Platform.Http;

/// <summary>
/// One <c>Idempotency-Key</c> of one caller: the fingerprint of the request that first used it and, once that request
/// has finished, the outcome to replay. A row without a status is a request still running.
/// </summary>
internal sealed class IdempotencyRecord
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public required string IdempotencyKey { get; set; }

    /// <summary>SHA-256 (hex) of method, route, caller and the request body, as <see cref="IdempotencyStore.Fingerprint"/> builds it.</summary>
    public required string Fingerprint { get; set; }

    /// <summary>The HTTP status of the stored outcome; null while the first request runs.</summary>
    public int? ResponseStatus { get; set; }

    /// <summary>The stored outcome as JSON (the response contract or a <see cref="Failure"/>).</summary>
    public string? ResponseBody { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>After this the key is forgotten: a later request with it is a new request.</summary>
    public DateTime ExpiresAt { get; set; }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> record)
    {
        record.ToTable("idempotency_records");
        record.Property(r => r.IdempotencyKey).HasMaxLength(100);
        record.Property(r => r.Fingerprint).HasMaxLength(64);
        // One key per caller, enforced by the database: of two requests racing with one key, one inserts and one waits its turn.
        record.HasIndex(r => new { r.UserId, r.IdempotencyKey }).IsUnique();
        record.HasIndex(r => r.ExpiresAt);
    }
}

internal static class IdempotencyCodes
{
    public const string KeyReused = "idempotency_key_reused";
    public const string RequestInProgress = "idempotency_request_in_progress";
}

/// <summary>What <see cref="IdempotencyStore.BeginAsync"/> decided: run the request (with its claim), replay an outcome, or refuse.</summary>
internal sealed record IdempotencyStart(IdempotencyRecord? Claim, int? ReplayStatus, string? ReplayBody, ProblemHttpResult? Refusal);

/// <summary>
/// Idempotency keys, after the IETF "The Idempotency-Key HTTP Header Field" draft and Stripe's practice. A key is
/// bound to the fingerprint of the request that first used it (method, route, caller, body hash): the same key with
/// another request is a 422, the same key while its first request still runs is a 409, and once that request has
/// finished, the same request again gets its outcome back without running. Keys are kept for
/// <see cref="Retention"/>. The caller's claim is a row inserted (and committed) before the work starts; the
/// outcome is written into that row inside the work's own transaction, so an outcome is stored exactly when its
/// effects are.
/// </summary>
internal sealed class IdempotencyStore(AppDbContext db, TimeProvider clock, IOptions<JsonOptions> json)
{
    /// <summary>How long a key and its outcome are kept (Stripe keeps them 24 hours).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>A claim older than this with no outcome belongs to a request that died (a crash, a lost connection): it is taken over.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    /// <summary>The request's fingerprint: SHA-256 over method, route, caller and the SHA-256 of the (normalised) body.</summary>
    public static string Fingerprint(string method, string route, long callerId, ReadOnlySpan<byte> body)
    {
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{method.ToUpperInvariant()}\n{route}\n{callerId}\n{bodyHash}")));
    }

    /// <summary>The body as the application reads it (snake_case JSON of the bound request), so spacing and field order do not change the fingerprint.</summary>
    public byte[] NormalizedBody<T>(T request) => JsonSerializer.SerializeToUtf8Bytes(request, json.Value.SerializerOptions);

    public async Task<IdempotencyStart> BeginAsync(long callerId, string key, string fingerprint, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Forgetting expired keys here keeps the table at about one day of requests without a job of its own.
        await db.Set<IdempotencyRecord>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var existing = await db.Set<IdempotencyRecord>().AsNoTracking()
                .SingleOrDefaultAsync(r => r.UserId == callerId && r.IdempotencyKey == key, cancellationToken);
            if (existing is not null)
            {
                if (existing.Fingerprint != fingerprint)
                {
                    return Refuse(422, IdempotencyCodes.KeyReused,
                        "This Idempotency-Key was already used for a different request; use a new key for a new request.");
                }

                if (existing.ResponseStatus is { } status)
                {
                    return new IdempotencyStart(null, status, existing.ResponseBody, null);
                }

                if (existing.CreatedAt > now - AbandonedAfter)
                {
                    return Refuse(409, IdempotencyCodes.RequestInProgress,
                        "A request with this Idempotency-Key is still being processed; retry after it has finished.");
                }

                // Taken over only if nobody else took it over first.
                await db.Set<IdempotencyRecord>().Where(r => r.Id == existing.Id && r.ResponseStatus == null && r.CreatedAt == existing.CreatedAt)
                    .ExecuteDeleteAsync(cancellationToken);
            }

            var claim = new IdempotencyRecord
            {
                UserId = callerId,
                IdempotencyKey = key,
                Fingerprint = fingerprint,
                CreatedAt = now,
                ExpiresAt = now + Retention,
            };
            db.Add(claim);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                db.Entry(claim).State = EntityState.Detached;
                return new IdempotencyStart(claim, null, null, null);
            }
            catch (DbUpdateException)
            {
                // Another request with the same key inserted first: read what it left and decide again.
                db.Entry(claim).State = EntityState.Detached;
            }
        }

        return Refuse(409, IdempotencyCodes.RequestInProgress, "A request with this Idempotency-Key is still being processed; retry after it has finished.");
    }

    /// <summary>Stores the outcome in the claim; inside the caller's transaction when there is one.</summary>
    public async Task CompleteAsync<T>(IdempotencyRecord claim, int status, T outcome, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(outcome, json.Value.SerializerOptions);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == claim.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResponseStatus, status).SetProperty(r => r.ResponseBody, body), cancellationToken);
    }

    /// <summary>Gives the key back after a failure that stored nothing, so that the client's retry runs again.</summary>
    public Task ReleaseAsync(IdempotencyRecord claim) =>
        db.Set<IdempotencyRecord>().Where(r => r.Id == claim.Id && r.ResponseStatus == null).ExecuteDeleteAsync(CancellationToken.None);

    public T Read<T>(string body) => JsonSerializer.Deserialize<T>(body, json.Value.SerializerOptions)!;

    private static IdempotencyStart Refuse(int status, string code, string detail) =>
        new(null, null, null, Problems.Create(status, code, detail, new FieldErrors { { "idempotency_key", detail } }));
}
