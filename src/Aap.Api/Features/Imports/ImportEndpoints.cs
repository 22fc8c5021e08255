using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Imports;

/// <summary><c>/api/v1/admin/imports</c>: CSV imports uploaded by admins and run as background jobs (admins only).</summary>
internal static class ImportEndpoints
{
    private const string Tag = "Admin: imports";

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var imports = endpoints.MapGroup("/api/v1/admin/imports").WithTags(Tag).RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403);
        imports.MapPost("", StartImport).WithName("StartImport").DisableAntiforgery()
            .Accepts<IFormFile>(MultipartFormDescription.ContentType)
            .DescribesMultipartForm(Form)
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415)
            .WithSummary("Upload a CSV or TSV (optionally gzip) and queue its import (202 with the import); the options have the command line's names. 413 past Imports:MaxUploadBytes.");
        imports.MapGet("", ListImports).WithName("ListImports").ProducesProblem(400).PagesByKeyset<ImportResponse>()
            .WithSummary("Every import, newest first, by page number or by cursor: state (queued, running, succeeded, failed, cancelled), progress, summary.");
        imports.MapGet("/{id:guid}", GetImport).WithName("GetImport").ProducesProblem(404)
            .WithSummary("One import: state, progress (rows read so far, written at most once a second), summary once it has succeeded, error once it has failed.");
        imports.MapGet("/{id:guid}/rejects", GetImportRejects).WithName("GetImportRejects").ProducesProblem(404).ProducesProblem(410)
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .WithSummary("The rejected rows as CSV (line, column, reason, row); 404 import_no_rejects when none were rejected or the import has not ended; 410 import_files_expired once removed after Imports:RetentionDays.");
        imports.MapPost("/{id:guid}/cancel", CancelImport).WithName("CancelImport").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Cancel an import: a queued one at once (200), a running one within a second (202; it rolls back, nothing is written). 409 once it has ended.");
        return endpoints;
    }

    private static readonly FormField[] Form =
    [
        MultipartForms.File("file", "The CSV or TSV file, optionally gzip."),
        MultipartForms.Text("table", "The target table (snake_case; PostgreSQL schema imports, SQLite prefix import_).", required: true),
        MultipartForms.Text("key", "The primary key column; without it the table gets a generated id."),
        MultipartForms.Text("mode", "create (default), append, replace or upsert."),
        MultipartForms.Text("required", "Columns a row must have a value in (comma-separated or repeated)."),
        MultipartForms.Text("bool", "Columns read as booleans (comma-separated or repeated)."),
        MultipartForms.Text("default", "COLUMN=VALUE: the value used where the column is empty or null (repeated, or one per line)."),
        MultipartForms.Text("type", "COLUMN=TYPE: integer, bigint, decimal, boolean, date, timestamp or text (repeated, or one per line)."),
        MultipartForms.Text("null", "Field values read as null (default NULL, NA, N/A)."),
        MultipartForms.Text("dry_run", "true: read and check everything, write nothing but the rejects."),
        MultipartForms.Integer("max_rejects", "Fail (writing nothing) when more rows than this are rejected."),
        MultipartForms.Text("max_reject_ratio", "Fail (writing nothing) when more than this share (0-1) of the rows is rejected."),
        MultipartForms.Text("delimiter", "One character, or tab (default: detected)."),
        MultipartForms.Text("encoding", "utf-8 (default; a BOM wins), latin1, windows-1252, utf-16..."),
        MultipartForms.Text("no_quotes", "true: read \" as an ordinary character."),
        MultipartForms.Text("no_trim", "true: keep white space around fields."),
    ];

    internal static async Task<Results<Accepted<Envelope<ImportResponse>>, ProblemHttpResult>> StartImport(
        HttpContext context, ImportAdminService imports, CancellationToken cancellationToken)
    {
        var read = await ImportUpload.ReadMultipartAsync(context.Request, imports.MaxUploadBytes, cancellationToken);
        if (!read.Succeeded)
        {
            return read.Failure.ToProblem();
        }

        await using var upload = read.Value;
        var started = await imports.StartAsync(context.User.UserId()!.Value, upload, cancellationToken);
        return started.Succeeded
            ? TypedResults.Accepted($"/api/v1/admin/imports/{started.Value.Id}", new Envelope<ImportResponse>(started.Value))
            : started.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<KeysetEnvelope<ImportResponse>>, Ok<PagedEnvelope<ImportResponse>>, ProblemHttpResult>> ListImports(
        [AsParameters] PageQuery paging, ImportAdminService imports, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        if (keyset is not null)
        {
            return Keyset.Ok(context, await imports.ListAsync(keyset, cancellationToken));
        }

        var page = await imports.ListAsync(paging, cancellationToken);
        context.Response.Headers.Link = Paging.LinkHeader(context.Request, page.Meta);
        return TypedResults.Ok(page);
    }

    internal static async Task<Results<Ok<Envelope<ImportResponse>>, ProblemHttpResult>> GetImport(
        Guid id, ImportAdminService imports, CancellationToken cancellationToken)
    {
        var import = await imports.GetAsync(id, cancellationToken);
        return import.Succeeded ? TypedResults.Ok(new Envelope<ImportResponse>(import.Value)) : import.Failure.ToProblem();
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetImportRejects(
        Guid id, ImportAdminService imports, CancellationToken cancellationToken)
    {
        var rejects = await imports.OpenRejectsAsync(id, cancellationToken);
        return rejects.Succeeded
            ? TypedResults.File(rejects.Value.Content, "text/csv; charset=utf-8", rejects.Value.FileName)
            : rejects.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<ImportResponse>>, Accepted<Envelope<ImportResponse>>, ProblemHttpResult>> CancelImport(
        Guid id, ImportAdminService imports, CancellationToken cancellationToken)
    {
        var cancelled = await imports.CancelAsync(id, cancellationToken);
        if (!cancelled.Succeeded)
        {
            return cancelled.Failure.ToProblem();
        }

        var body = new Envelope<ImportResponse>(cancelled.Value);
        return cancelled.Value.State == ImportStates.Cancelled
            ? TypedResults.Ok(body)
            : TypedResults.Accepted($"/api/v1/admin/imports/{id}", body);
    }
}
