using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aap.Api.Features.Imports;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

// The feature is called Imports, as its folder; the namespace is never used from Visual Basic.
#pragma warning disable CA1716
namespace Aap.Api.Tests.Features.Imports;
#pragma warning restore CA1716

/// <summary>
/// <c>/api/v1/admin/imports</c> through real HTTP: an admin's upload is stored, imported by the queued job
/// <c>csv-imports</c> and shows its progress, summary and rejects; cancel, bad options, size limit and access.
/// </summary>
public abstract class ImportApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract AapFactory NewFactory();

    private const string People =
        "Id,Name,Score,Active\n" +
        "1,Ada,10,yes\n" +
        "2,,20,no\n" +       // no name: rejected (required)
        "3,Grace,30,y\n";

    [Fact]
    public async Task An_admins_upload_is_imported_with_its_summary_and_rejects_and_a_second_upsert_does_not_duplicate()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var started = await admin.PostAsync("/api/v1/admin/imports",
            Form(People, "people.csv", ("table", "People"), ("key", "id"), ("required", "name"), ("bool", "active"), ("mode", "upsert")), Ct);
        var body = await started.JsonAsync();
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted, body.ToString());
        var queued = body.GetProperty("data");
        var id = queued.GetProperty("id").GetString()!;
        started.Headers.Location!.ToString().ShouldBe($"/api/v1/admin/imports/{id}");
        queued.GetProperty("file_name").GetString().ShouldBe("people.csv");
        queued.GetProperty("table").GetString().ShouldBe("people");
        queued.GetProperty("mode").GetString().ShouldBe("upsert");
        queued.GetProperty("file_bytes").GetInt64().ShouldBe(Encoding.UTF8.GetByteCount(People));

        var done = await admin.FinishedImportAsync(id);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.ToString());
        done.GetProperty("error").ValueKind.ShouldBe(JsonValueKind.Null);
        done.GetProperty("progress").GetProperty("rows_read").GetInt64().ShouldBe(3);
        done.GetProperty("progress").GetProperty("rows_rejected").GetInt64().ShouldBe(1);
        done.GetProperty("progress").GetProperty("percent").GetDouble().ShouldBe(100);
        var summary = done.GetProperty("summary");
        (summary.GetProperty("rows_read").GetInt64(), summary.GetProperty("rows_loaded").GetInt64(), summary.GetProperty("rows_rejected").GetInt64()).ShouldBe((3, 2, 1));
        summary.GetProperty("created").GetBoolean().ShouldBeTrue();
        summary.GetProperty("key").GetString().ShouldBe("id");
        summary.GetProperty("rejected_by_reason").EnumerateObject().Single().Value.GetInt64().ShouldBe(1);
        summary.GetProperty("columns").EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()} {c.GetProperty("type").GetString()}")
            .ShouldBe(["id integer", "name text", "score integer", "active boolean"]);
        done.GetProperty("has_rejects").GetBoolean().ShouldBeTrue();
        (await RowsAsync(factory, "people")).ShouldBe(["1 Ada 10", "3 Grace 30"]);

        using var rejects = await admin.GetAsync($"/api/v1/admin/imports/{id}/rejects", Ct);
        rejects.StatusCode.ShouldBe(HttpStatusCode.OK);
        rejects.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        rejects.Content.Headers.ContentDisposition!.FileName!.Trim('"').ShouldBe("people-rejects.csv");
        var rejected = (await rejects.Content.ReadAsStringAsync(Ct)).ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        rejected.Length.ShouldBe(2);
        rejected[0].ShouldBe("line,column,reason,row");
        rejected[1].ShouldStartWith("3,name,");
        rejected[1].ShouldEndWith(",\"2,,20,no\"");

        // The upload is gone from the store once imported; its row keeps the record.
        var row = await factory.DbAsync(db => db.Set<DataImport>().AsNoTracking().SingleAsync(i => i.Id == Guid.Parse(id), Ct));
        row.CreatedBy.ShouldBeGreaterThan(0);
        row.StartedAt.ShouldNotBeNull();
        row.FinishedAt.ShouldNotBeNull();
        await factory.UploadGoneAsync(row.FileKey);

        // The same file again, upserted, with one row changed: nothing duplicated, the changed row updated.
        using var again = await admin.PostAsync("/api/v1/admin/imports",
            Form(People.Replace("3,Grace,30", "3,Grace,31", StringComparison.Ordinal), "people.csv",
                ("table", "people"), ("key", "id"), ("required", "name"), ("bool", "active"), ("mode", "upsert")), Ct);
        again.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var second = await admin.FinishedImportAsync((await again.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!);
        second.GetProperty("state").GetString().ShouldBe("succeeded", second.ToString());
        second.GetProperty("summary").GetProperty("created").GetBoolean().ShouldBeFalse();
        (await RowsAsync(factory, "people")).ShouldBe(["1 Ada 10", "3 Grace 31"]);

        // Newest first.
        using var list = await admin.GetAsync("/api/v1/admin/imports?size=1", Ct);
        var page = await list.JsonAsync();
        page.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(2);
        page.GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString().ShouldBe(second.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_failed_import_says_why_writes_nothing_and_an_import_without_rejects_has_no_rejects_file()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var limited = await admin.PostAsync("/api/v1/admin/imports", Form(People, "p.csv", ("table", "limited"), ("required", "name"), ("max_rejects", "0")), Ct);
        var failed = await admin.FinishedImportAsync((await limited.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!);
        failed.GetProperty("state").GetString().ShouldBe("failed");
        failed.GetProperty("error").GetProperty("code").GetString().ShouldBe(ImportProblemCodes.RejectLimit);
        failed.GetProperty("summary").ValueKind.ShouldBe(JsonValueKind.Null);
        (await TableExistsAsync(factory, "limited")).ShouldBeFalse();

        using var clean = await admin.PostAsync("/api/v1/admin/imports", Form("a,b\n1,2\n", "clean.csv", ("table", "clean")), Ct);
        var cleanId = (await clean.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!;
        (await admin.FinishedImportAsync(cleanId)).GetProperty("state").GetString().ShouldBe("succeeded");
        using var none = await admin.GetAsync($"/api/v1/admin/imports/{cleanId}/rejects", Ct);
        await Problem.ReadAsync(none, HttpStatusCode.NotFound, ImportAdminCodes.NoRejects);
        using var missing = await admin.GetAsync($"/api/v1/admin/imports/{Guid.NewGuid()}", Ct);
        await Problem.ReadAsync(missing, HttpStatusCode.NotFound, "not_found");
        using var cancelDone = await admin.PostAsync($"/api/v1/admin/imports/{cleanId}/cancel", null, Ct);
        await Problem.ReadAsync(cancelDone, HttpStatusCode.Conflict, ImportAdminCodes.Finished);
    }

    [Fact]
    public async Task Bad_options_are_a_400_naming_each_field_and_nothing_is_stored_or_queued()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var response = await admin.PostAsync("/api/v1/admin/imports", Form(People, "p.csv",
            ("table", "!!!"), ("mode", "sideways"), ("type", "score=money"), ("default", "novalue"), ("max_rejects", "-1"), ("max_reject_ratio", "2"),
            ("dry_run", "perhaps"), ("delimiter", "::"), ("encoding", "klingon"), ("colour", "blue")), Ct);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, ImportProblemCodes.InvalidOptions);
        foreach (var field in new[] { "table", "mode", "type", "default", "max_rejects", "max_reject_ratio", "dry_run", "delimiter", "encoding", "colour" })
        {
            Problem.FieldErrors(problem, field).ShouldNotBeEmpty(field);
        }

        Problem.FieldErrors(problem, "mode").Single().ShouldContain("sideways");
        using var upsert = await admin.PostAsync("/api/v1/admin/imports", Form(People, "p.csv", ("table", "t"), ("mode", "upsert")), Ct);
        Problem.FieldErrors(await Problem.ReadAsync(upsert, HttpStatusCode.BadRequest, ImportProblemCodes.InvalidOptions), "key").ShouldNotBeEmpty();
        using var noFile = new MultipartFormDataContent { { new StringContent("t"), "table" } };
        using var fileless = await admin.PostAsync("/api/v1/admin/imports", noFile, Ct);
        Problem.FieldErrors(await Problem.ReadAsync(fileless, HttpStatusCode.BadRequest, ImportProblemCodes.InvalidOptions), "file").ShouldNotBeEmpty();
        using var json = await admin.PostAsync("/api/v1/admin/imports", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        json.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);

        (await factory.DbAsync(db => db.Set<DataImport>().CountAsync(Ct))).ShouldBe(0);
        StoredImportFiles(factory).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("encoding", "utf-7")] // a name the runtime knows and refuses to decode
    [InlineData("delimiter", "é")] // outside the CSV reader's characters
    [InlineData("delimiter", "\u0001")]
    [InlineData("delimiter", "\"")]
    public async Task An_encoding_or_delimiter_the_reader_cannot_use_is_a_400_before_anything_is_stored(string field, string value)
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var response = await admin.PostAsync("/api/v1/admin/imports", Form(People, "p.csv", ("table", "t"), (field, value)), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, ImportProblemCodes.InvalidOptions);
        Problem.FieldErrors(problem, field).ShouldNotBeEmpty();
        (await factory.DbAsync(db => db.Set<DataImport>().CountAsync(Ct))).ShouldBe(0);
        StoredImportFiles(factory).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_a_413_and_leaves_no_stored_object()
    {
        await using var factory = NewFactory();
        factory.With("Imports:MaxUploadBytes", "4096");
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var big = "a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", 2000));

        using var response = await admin.PostAsync("/api/v1/admin/imports", Form(big, "big.csv", ("table", "big")), Ct);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        problem.GetProperty("detail").GetString()!.ShouldContain("4096");
        (await factory.DbAsync(db => db.Set<DataImport>().CountAsync(Ct))).ShouldBe(0);
        StoredImportFiles(factory).ShouldBeEmpty();
        Directory.GetFiles(Path.GetTempPath(), "aap-import-*.upload").ShouldNotContain(f => File.GetLastWriteTimeUtc(f) > DateTime.UtcNow.AddSeconds(-30));

        using var small = await admin.PostAsync("/api/v1/admin/imports", Form("a,b\n1,2\n", "small.csv", ("table", "small")), Ct);
        small.StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Users_get_403_and_guests_401()
    {
        await using var factory = NewFactory();
        await factory.InitializeAsync();
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var guest = factory.Client();

        using var upload = await user.PostAsync("/api/v1/admin/imports", Form(People, "p.csv", ("table", "t")), Ct);
        await Problem.ReadAsync(upload, HttpStatusCode.Forbidden, "forbidden");
        using var list = await user.GetAsync("/api/v1/admin/imports", Ct);
        await Problem.ReadAsync(list, HttpStatusCode.Forbidden, "forbidden");
        using var anonymous = await guest.PostAsync("/api/v1/admin/imports", Form(People, "p.csv", ("table", "t")), Ct);
        await Problem.ReadAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        using var cancel = await guest.PostAsync($"/api/v1/admin/imports/{Guid.NewGuid()}/cancel", null, Ct);
        await Problem.ReadAsync(cancel, HttpStatusCode.Unauthorized, "unauthorized");
        (await factory.DbAsync(db => db.Set<DataImport>().CountAsync(Ct))).ShouldBe(0);
    }

    [Fact]
    public async Task A_queued_import_is_cancelled_at_once_and_a_running_one_stops_and_writes_nothing()
    {
        await using var factory = NewFactory();
        var gate = new UploadGate();
        factory.WithServices(services => gate.Install(services));
        await factory.InitializeAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var first = await admin.PostAsync("/api/v1/admin/imports", Form(People, "held.csv", ("table", "held")), Ct);
        var held = (await first.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!;
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        using var second = await admin.PostAsync("/api/v1/admin/imports", Form(People, "waiting.csv", ("table", "waiting")), Ct);
        var waiting = (await second.JsonAsync()).GetProperty("data").GetProperty("id").GetString()!;

        // The job runs one import at a time: the second waits in the queue, and is cancelled at once.
        using var cancelQueued = await admin.PostAsync($"/api/v1/admin/imports/{waiting}/cancel", null, Ct);
        var queuedBody = await cancelQueued.JsonAsync();
        cancelQueued.StatusCode.ShouldBe(HttpStatusCode.OK, queuedBody.ToString());
        queuedBody.GetProperty("data").GetProperty("state").GetString().ShouldBe("cancelled");
        var waitingKey = await factory.DbAsync(db => db.Set<DataImport>().Where(i => i.Id == Guid.Parse(waiting)).Select(i => i.FileKey).SingleAsync(Ct));
        (await factory.ServiceAsync<IFileStore, StoredObject?>(store => store.OpenAsync(waitingKey, Ct))).ShouldBeNull();

        // The running one is asked to stop (202), and stops at its next read.
        using var running = await admin.GetAsync($"/api/v1/admin/imports/{held}", Ct);
        (await running.JsonAsync()).GetProperty("data").GetProperty("state").GetString().ShouldBe("running");
        using var cancelRunning = await admin.PostAsync($"/api/v1/admin/imports/{held}/cancel", null, Ct);
        var runningBody = await cancelRunning.JsonAsync();
        cancelRunning.StatusCode.ShouldBe(HttpStatusCode.Accepted, runningBody.ToString());
        runningBody.GetProperty("data").GetProperty("cancel_requested").GetBoolean().ShouldBeTrue();
        gate.Release.TrySetResult();

        var ended = await admin.FinishedImportAsync(held);
        ended.GetProperty("state").GetString().ShouldBe("cancelled", ended.ToString());
        ended.GetProperty("summary").ValueKind.ShouldBe(JsonValueKind.Null);
        (await TableExistsAsync(factory, "held")).ShouldBeFalse();
        (await TableExistsAsync(factory, "waiting")).ShouldBeFalse();
        using var again = await admin.PostAsync($"/api/v1/admin/imports/{held}/cancel", null, Ct);
        await Problem.ReadAsync(again, HttpStatusCode.Conflict, ImportAdminCodes.Finished);
    }

    internal static MultipartFormDataContent Form(string csv, string fileName, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", fileName);
        return form;
    }

    private static string TableOf(AapFactory factory, string table) =>
        factory is PostgresFactory ? $"imports.\"{table}\"" : $"\"import_{table}\"";

    private static Task<List<string>> RowsAsync(AapFactory factory, string table) => factory.DbAsync(async db =>
    {
        await db.Database.OpenConnectionAsync(Ct);
        await using DbCommand command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT id, name, score FROM {TableOf(factory, table)} ORDER BY id";
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            rows.Add($"{reader.GetValue(0)} {reader.GetValue(1)} {reader.GetValue(2)}");
        }

        return rows;
    });

    private static Task<bool> TableExistsAsync(AapFactory factory, string table) => factory.DbAsync(async db =>
    {
        await db.Database.OpenConnectionAsync(Ct);
        await using DbCommand command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = factory is PostgresFactory
            ? $"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'imports' AND table_name = '{table}'"
            : $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'import_{table}'";
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture) > 0;
    });

    /// <summary>Objects of the local store under <c>imports/</c> (uploads and rejects).</summary>
    private static string[] StoredImportFiles(AapFactory factory)
    {
        var folder = Path.Combine(factory.DataDirectory, "files", "imports");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
    }

    public sealed class OnSqlite : ImportApiTests
    {
        private protected override AapFactory NewFactory() => new SqliteFactory();
    }

    public sealed class OnPostgres : ImportApiTests
    {
        private protected override AapFactory NewFactory() => new PostgresFactory();
    }

    /// <summary>The first test again with the upload and the rejects in S3.</summary>
    public sealed class OnS3
    {
        [Fact]
        public Task An_admins_upload_is_imported_from_s3_with_its_rejects() =>
            new S3Case().An_admins_upload_is_imported_with_its_summary_and_rejects_and_a_second_upsert_does_not_duplicate();

        private sealed class S3Case : ImportApiTests
        {
            private protected override AapFactory NewFactory() => new S3Factory();
        }
    }
}

/// <summary>Waiting for an import started through the API.</summary>
internal static class ImportWaits
{
    /// <summary>Polls the import until it has ended (or the deadline passes), and returns its last state.</summary>
    public static async Task<JsonElement> FinishedImportAsync(this HttpClient admin, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement import;
        do
        {
            using var response = await admin.GetAsync($"/api/v1/admin/imports/{id}", TestContext.Current.CancellationToken);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            import = (await response.JsonAsync()).GetProperty("data");
            if (!ImportStates.IsActive(import.GetProperty("state").GetString()!))
            {
                return import;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The import {id} had not ended in time; last seen: {import}");
    }

    /// <summary>
    /// Polls the store until an ended import's upload is gone: the job deletes it just after it records the end, so
    /// an import seen ended may still have it for a moment.
    /// </summary>
    public static async Task UploadGoneAsync(this AapFactory factory, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var store = factory.Services.GetRequiredService<IFileStore>();
        while (await store.OpenAsync(key, TestContext.Current.CancellationToken) is { } stored)
        {
            await stored.Content.DisposeAsync();
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"The ended import's upload {key} was still in the store.");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>
/// Holds a running import: the stored uploads are read through a stream that hands over its first bytes, says the
/// import has started, and then waits for the test before reading on.
/// </summary>
internal sealed class UploadGate
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Install(IServiceCollection services)
    {
        var original = services.Last(d => d.ServiceType == typeof(IFileStore));
        services.Remove(original);
        services.AddSingleton<IFileStore>(sp => new GatedStore((IFileStore)original.ImplementationFactory!(sp), this));
    }

    private sealed class GatedStore(IFileStore inner, UploadGate gate) : IFileStore
    {
        public StorageProvider Provider => inner.Provider;

        public Task PutAsync(string key, string sourcePath, string contentType, CancellationToken cancellationToken) =>
            inner.PutAsync(key, sourcePath, contentType, cancellationToken);

        public Task PutAsync(string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken) =>
            inner.PutAsync(key, content, contentType, cancellationToken);

        public async Task<StoredObject?> OpenAsync(string key, CancellationToken cancellationToken)
        {
            var stored = await inner.OpenAsync(key, cancellationToken);
            return stored is not null && key.EndsWith(".upload", StringComparison.Ordinal)
                ? new StoredObject(new HeldStream(stored.Content, gate), stored.Length)
                : stored;
        }

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public Task<Uri?> PresignAsync(string key, string contentType, string fileName, DateTime expiresAt, CancellationToken cancellationToken) =>
            inner.PresignAsync(key, contentType, fileName, expiresAt, cancellationToken);

        public IAsyncEnumerable<ListedObject> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);
    }

    private sealed class HeldStream(Stream inner, UploadGate gate) : Stream
    {
        private bool _first = true;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_first)
            {
                _first = false;
                return inner.Read(buffer, offset, Math.Min(count, 16));
            }

            gate.Started.TrySetResult();
            gate.Release.Task.Wait(TimeSpan.FromSeconds(60));
            return inner.Read(buffer, offset, count);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
