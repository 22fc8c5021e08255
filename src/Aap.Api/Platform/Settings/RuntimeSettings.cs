using Aap.Api.Platform.Persistence;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Platform.Settings.RuntimeSettingConfiguration))]
[assembly: EntityConfiguration(typeof(Aap.Api.Platform.Settings.RuntimeSettingChangeConfiguration))]

namespace Aap.Api.Platform.Settings;

/// <summary>A setting admins change at run time. Features declare theirs with <see cref="RuntimeSettingDefinition"/>.</summary>
internal sealed class RuntimeSetting
{
    public required string Key { get; set; }

    /// <summary>The value as invariant text; its type and bounds come from the definition.</summary>
    public required string Value { get; set; }

    public DateTime UpdatedAt { get; set; }

    public long? UpdatedBy { get; set; }
}

/// <summary>The audit trail of every change: who, when, the old and the new value.</summary>
internal sealed class RuntimeSettingChange
{
    public long Id { get; set; }

    public required string Key { get; set; }

    public string? OldValue { get; set; }

    public required string NewValue { get; set; }

    public long? ChangedBy { get; set; }

    public DateTime ChangedAt { get; set; }
}

/// <summary>What the audit log keeps of a setting: its stored value (no record before it means the default applied).</summary>
internal sealed record SettingAuditSnapshot(int Value);

/// <summary>An integer setting with a default and inclusive bounds.</summary>
internal sealed record RuntimeSettingDefinition(string Key, int Default, int Min, int Max, string Description)
{
    public bool Accepts(int value) => value >= Min && value <= Max;
}

internal sealed class RuntimeSettingConfiguration : IEntityTypeConfiguration<RuntimeSetting>
{
    public void Configure(EntityTypeBuilder<RuntimeSetting> setting)
    {
        setting.ToTable("runtime_settings");
        setting.HasKey(s => s.Key);
        setting.Property(s => s.Key).HasMaxLength(100);
        setting.Property(s => s.Value).HasMaxLength(1000);
    }
}

internal sealed class RuntimeSettingChangeConfiguration : IEntityTypeConfiguration<RuntimeSettingChange>
{
    public void Configure(EntityTypeBuilder<RuntimeSettingChange> change)
    {
        change.ToTable("runtime_setting_changes");
        change.Property(c => c.Key).HasMaxLength(100);
        change.Property(c => c.OldValue).HasMaxLength(1000);
        change.Property(c => c.NewValue).HasMaxLength(1000);
        change.HasIndex(c => new { c.Key, c.ChangedAt });
    }
}

/// <summary>
/// Reads and changes the runtime settings. Reads come from a snapshot of the table that is reloaded when it is
/// older than <see cref="RefreshInterval"/>, so a change made on one node is seen by every node within that time
/// without a database call per request; a change made through this node is seen here at once.
/// </summary>
internal sealed partial class RuntimeSettings(
    IServiceScopeFactory scopes,
    IEnumerable<RuntimeSettingDefinition> definitions,
    TimeProvider clock,
    ILogger<RuntimeSettings> logger) : IDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, RuntimeSettingDefinition> _definitions =
        definitions.ToDictionary(d => d.Key, StringComparer.Ordinal);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile Snapshot? _snapshot;

    public bool TryGetDefinition(string key, out RuntimeSettingDefinition definition) =>
        _definitions.TryGetValue(key, out definition!);

    public async ValueTask<int> GetAsync(RuntimeSettingDefinition definition, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(cancellationToken);
        return snapshot.Values.TryGetValue(definition.Key, out var stored) &&
               int.TryParse(stored.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) &&
               definition.Accepts(value)
            ? value
            : definition.Default;
    }

    public async Task<IReadOnlyList<(RuntimeSettingDefinition Definition, int Value, RuntimeSetting? Stored)>> ListAsync(CancellationToken cancellationToken)
    {
        var snapshot = await LoadAsync(cancellationToken);
        return _definitions.Values.OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => snapshot.Values.TryGetValue(d.Key, out var stored)
                ? (d, int.Parse(stored.Value, CultureInfo.InvariantCulture), (RuntimeSetting?)stored)
                : (d, d.Default, null))
            .ToList();
    }

    /// <summary>Stores a value the caller has bounds-checked, with its history row and its audit record, in one transaction.</summary>
    public async Task SetAsync(RuntimeSettingDefinition definition, int value, long? changedBy, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Persistence.AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var text = value.ToString(CultureInfo.InvariantCulture);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var stored = await db.Set<RuntimeSetting>().SingleOrDefaultAsync(s => s.Key == definition.Key, cancellationToken);
        var old = stored?.Value;
        if (stored is null)
        {
            db.Set<RuntimeSetting>().Add(new RuntimeSetting { Key = definition.Key, Value = text, UpdatedAt = now, UpdatedBy = changedBy });
        }
        else
        {
            stored.Value = text;
            stored.UpdatedAt = now;
            stored.UpdatedBy = changedBy;
        }

        db.Set<RuntimeSettingChange>().Add(new RuntimeSettingChange { Key = definition.Key, OldValue = old, NewValue = text, ChangedBy = changedBy, ChangedAt = now });
        // The settings history stays for the settings page; the audit log has every admin action in one place.
        await scope.ServiceProvider.GetRequiredService<Audit.AuditLog>().RecordAsync(changedBy, "setting.updated", "setting", definition.Key,
            old is null ? null : new SettingAuditSnapshot(int.Parse(old, CultureInfo.InvariantCulture)), new SettingAuditSnapshot(value), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _snapshot = null;
        LogChanged(definition.Key, old ?? $"{definition.Default} (default)", text, changedBy);
    }

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        return snapshot is not null && clock.GetUtcNow() - snapshot.LoadedAt < RefreshInterval
            ? snapshot
            : await LoadAsync(cancellationToken);
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Persistence.AppDbContext>();
            var values = await db.Set<RuntimeSetting>().AsNoTracking().ToDictionaryAsync(s => s.Key, StringComparer.Ordinal, cancellationToken);
            var snapshot = new Snapshot(values, clock.GetUtcNow());
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }

    public void Dispose() => _reload.Dispose();

    private sealed record Snapshot(Dictionary<string, RuntimeSetting> Values, DateTimeOffset LoadedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Runtime setting {Key} changed from {OldValue} to {NewValue} by user {UserId}")]
    private partial void LogChanged(string key, string oldValue, string newValue, long? userId);
}
