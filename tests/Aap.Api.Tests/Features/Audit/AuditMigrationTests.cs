using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Platform.Settings;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Audit;

/// <summary>Migration 0012 copies the settings history that existed before it into the audit log.</summary>
public abstract class AuditMigrationTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_settings_history_is_copied_into_the_audit_log()
    {
        await using var fresh = await FreshDatabase.CreateAsync(factory.Provider);
        await using var db = fresh.Context();
        await fresh.MigrateBeforeAsync(db, "0012", Ct);

        var admin = new User { UserName = "history_admin", NormalizedUserName = "HISTORY_ADMIN", SecurityStamp = "s", Role = "Admin" };
        db.Set<User>().Add(admin);
        await db.SaveChangesAsync(Ct);
        var first = new DateTime(2026, 1, 5, 10, 0, 0, DateTimeKind.Utc);
        db.Set<RuntimeSettingChange>().AddRange(
            new RuntimeSettingChange { Key = "auth.access_token_lifetime_seconds", OldValue = null, NewValue = "60", ChangedBy = admin.Id, ChangedAt = first },
            new RuntimeSettingChange { Key = "auth.access_token_lifetime_seconds", OldValue = "60", NewValue = "90", ChangedBy = null, ChangedAt = first.AddHours(1) });
        await db.SaveChangesAsync(Ct);

        await fresh.MigrateAsync(db, "0012", Ct);

        var copied = await db.Set<AuditEntry>().AsNoTracking().OrderBy(e => e.Id).ToListAsync(Ct);
        copied.Count.ShouldBe(2);
        copied.ShouldAllBe(e => e.Action == "setting.updated" && e.EntityType == "setting" && e.EntityId == "auth.access_token_lifetime_seconds");
        (copied[0].ActorId, copied[0].ActorName, copied[0].OccurredAt).ShouldBe((admin.Id, "history_admin", first));
        copied[0].BeforeJson.ShouldBeNull();
        Value(copied[0].AfterJson).ShouldBe(60);
        (copied[1].ActorId, copied[1].ActorName, copied[1].OccurredAt).ShouldBe((null, "system", first.AddHours(1)));
        Value(copied[1].BeforeJson).ShouldBe(60);
        Value(copied[1].AfterJson).ShouldBe(90);
    }

    private static int Value(string? json)
    {
        using var document = JsonDocument.Parse(json!);
        return document.RootElement.GetProperty("value").GetInt32();
    }


    public sealed class OnSqlite(SqliteFactory factory) : AuditMigrationTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : AuditMigrationTests(factory), IClassFixture<PostgresFactory>;
}
