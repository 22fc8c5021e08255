using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Storage;
using Aap.Api.Tests.Docs;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aap.Api.Tests.Features.Files;

/// <summary>
/// Issue 18's scenario for real: a node, a process of its own on PostgreSQL and S3, is killed (SIGKILL) with two
/// uploads in flight, one still sending its body and one whose object is stored and whose row is not yet
/// committed. Afterwards no row lacks its object; once the grace has passed, the sweep run by another node removes
/// the one object without a row, and the store holds exactly the objects the rows name.
/// </summary>
public sealed class OrphanSweepKillTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_killed_mid_upload_leaves_after_the_sweep_exactly_the_objects_its_rows_name()
    {
        var bucket = $"aap-orphans-{Guid.NewGuid():N}";
        await using var survivor = new PostgresFactory();
        foreach (var (key, value) in S3Settings(bucket))
        {
            survivor.With(key, value);
        }

        await survivor.InitializeAsync();
        await survivor.EndStatementsOfVanishedClientsAsync(Ct);

        await using var node = await DocServer.StartAsync(survivor.ProcessNodeEnvironment(bucket), Ct);
        var account = await survivor.RegisterAsync();
        using var http = await PostgresFactory.SignedInClientAsync(new Uri(node.Address), account.UserName!, Ct);

        // One upload that completes on the node: its object and row stay.
        using (var kept = await http.PostAsync("/api/v1/files", PdfForm("kept.pdf"), Ct))
        {
            kept.StatusCode.ShouldBe(HttpStatusCode.Created, await kept.Content.ReadAsStringAsync(Ct));
        }

        var store = survivor.Services.GetRequiredService<IFileStore>();
        (await ListedAsync(store)).Count.ShouldBe(1);

        // One upload still sending its body when the node dies.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var stalled = new StalledUpload();
        var slow = SendIgnoringTheKillAsync(http, stalled, abandon.Token);
        await stalled.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // One upload whose object is stored while its row waits on a lock this test holds: the node dies in between.
        string orphan;
        await using (var connection = new NpgsqlConnection(survivor.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await using (var lockRows = new NpgsqlCommand("LOCK TABLE stored_files IN SHARE MODE", connection, transaction))
            {
                await lockRows.ExecuteNonQueryAsync(Ct);
            }

            var blocked = SendIgnoringTheKillAsync(http, PdfForm("orphan.pdf"), abandon.Token);
            var waiting = Stopwatch.StartNew();
            List<string> listed;
            while ((listed = await ListedAsync(store)).Count < 2)
            {
                waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"the node never stored the second upload's object:\n{node.Output}");
                await Task.Delay(50, Ct);
            }

            orphan = listed.Except(await NamedKeysAsync(survivor)).Single();
            await node.KillAsync();
            await abandon.CancelAsync();
            await Task.WhenAll(slow, blocked);

            // The dead node's insert is ended by the database before the lock goes.
            waiting.Restart();
            await using (var waiters = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection, transaction))
            {
                while ((long)(await waiters.ExecuteScalarAsync(Ct))! > 0)
                {
                    waiting.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the killed node's insert was still waiting");
                    await Task.Delay(50, Ct);
                }
            }

            await transaction.RollbackAsync(Ct);
        }

        // No row without its object, right after the kill.
        var named = await NamedKeysAsync(survivor);
        named.Count.ShouldBe(1);
        (await ListedAsync(store)).ShouldBe([.. named.Append(orphan).Order(StringComparer.Ordinal)]);

        // Within the grace the sweep leaves the orphan (it could be an upload in flight); after it, removes it. The
        // sweep is run here as `aap files sweep-orphans` runs it; the job's run history is tested in OrphanSweepTests.
        survivor.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddHours(1));
        var early = await SweepAsync(survivor);
        (early.Orphans, early.TooYoung).ShouldBe((0L, 2L));
        (await ListedAsync(store)).ShouldContain(orphan);
        survivor.Clock.SetUtcNow(DateTimeOffset.UtcNow.AddHours(25));
        var late = await SweepAsync(survivor);
        (late.Listed, late.Orphans, late.Removed, late.Failed).ShouldBe((2L, 1L, 1L, 0L));
        (await ListedAsync(store)).ShouldBe(named);
        (await NamedKeysAsync(survivor)).ShouldBe(named);
    }

    private static async Task SendIgnoringTheKillAsync(HttpClient http, HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.PostAsync("/api/v1/files", content, cancellationToken);
            throw new InvalidOperationException($"An upload the kill should have cut off was answered {(int)response.StatusCode}.");
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            // The node died with it in flight.
        }
    }

    private static MultipartFormDataContent PdfForm(string name)
    {
        var file = new ByteArrayContent([.. Images.Pdf, .. Encoding.ASCII.GetBytes(Guid.NewGuid().ToString("N"))]);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        return new MultipartFormDataContent { { file, "file", name } };
    }

    private static Task<OrphanSweepResult> SweepAsync(AapFactory factory) =>
        factory.ServiceAsync<OrphanSweep, OrphanSweepResult>(sweep => sweep.RunAsync(dryRun: false, Ct));

    private static async Task<List<string>> NamedKeysAsync(AapFactory factory)
    {
        var rows = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().Select(f => new { f.Key, f.ThumbnailKey }).ToListAsync(Ct));
        return [.. rows.SelectMany(r => new[] { r.Key, r.ThumbnailKey }).OfType<string>().Order(StringComparer.Ordinal)];
    }

    private static async Task<List<string>> ListedAsync(IFileStore store)
    {
        var keys = new List<string>();
        foreach (var prefix in new[] { "uploads/", "screenshots/" })
        {
            await foreach (var listed in store.ListAsync(prefix, Ct))
            {
                keys.Add(listed.Key);
            }
        }

        return [.. keys.Order(StringComparer.Ordinal)];
    }

    private static Dictionary<string, string> S3Settings(string bucket) => S3Factory.Settings(bucket);

    /// <summary>A multipart upload that sends its first part's head and a few bytes of content, then nothing more.</summary>
    private sealed class StalledUpload : HttpContent
    {
        private const string Boundary = "stalled-upload";

        public StalledUpload() => Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");

        /// <summary>Set once the head is on the wire.</summary>
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var head = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\nContent-Type: application/pdf\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head).Concat(Images.Pdf).ToArray(), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            Started.TrySetResult();
            // The rest of the body never comes: the request is in flight until the node dies and the test lets go.
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
