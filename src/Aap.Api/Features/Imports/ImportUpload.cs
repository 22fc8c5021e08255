using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Aap.Api.Features.Imports;

/// <summary>
/// An uploaded CSV and the form's option fields, as the API and the admin page receive them. The file is spooled to a
/// temporary file as it arrives (never held in memory) and refused past <c>Imports:MaxUploadBytes</c> (at once when
/// Content-Length says so, else as soon as its bytes pass the limit), so nothing of an over-size upload reaches the
/// file store; disposing removes the spool.
/// </summary>
[FeatureSurface]
internal sealed class ImportUpload : IAsyncDisposable
{
    private const int MaxFieldChars = 16 * 1024;
    private const int MaxFields = 200;

    /// <summary>What the body may carry beyond the file: the option fields and the multipart framing.</summary>
    private const long FormAllowance = 1024 * 1024;

    private ImportUpload(Dictionary<string, List<string>> fields)
    {
        Fields = fields;
    }

    /// <summary>The text fields, by name, in the order sent.</summary>
    public IReadOnlyDictionary<string, List<string>> Fields { get; }

    /// <summary>The spooled file, when the form had one.</summary>
    public string? SpoolPath { get; private set; }

    public string? FileName { get; private set; }

    public long FileBytes { get; private set; }

    /// <summary>Reads a <c>multipart/form-data</c> body section by section (field <c>file</c> plus the options).</summary>
    public static async Task<Result<ImportUpload>> ReadMultipartAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        // The platform's general body limit is far below a large CSV; this route has its own, checked below.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + FormAllowance;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Failure.Of(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Send the CSV as multipart/form-data: the file in the field 'file', the options in their own fields.", "file");
        }

        // A body declared larger than the file's limit plus room for the form's fields is refused before a byte of it is read.
        if (request.ContentLength > maxBytes + FormAllowance)
        {
            return TooLarge(maxBytes);
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
        {
            return Malformed("The Content-Type multipart/form-data has no boundary parameter; send the form as multipart/form-data; boundary=...");
        }

        var upload = new ImportUpload(new Dictionary<string, List<string>>(StringComparer.Ordinal));
        try
        {
            var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
            var count = 0;
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (++count > MaxFields)
                {
                    await upload.DisposeAsync();
                    return Malformed($"The form has more than {MaxFields} parts.");
                }

                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                    if (name != "file" || upload.SpoolPath is not null)
                    {
                        await upload.DisposeAsync();
                        return Failure.Invalid(name, $"Only one file is accepted, in the field 'file' (got one in '{name}').");
                    }

                    if (await upload.SpoolAsync(fileName, section.Body, maxBytes, cancellationToken) is { } tooLarge)
                    {
                        await upload.DisposeAsync();
                        return tooLarge;
                    }

                    continue;
                }

                using var text = new StreamReader(section.Body);
                var buffer = new char[MaxFieldChars + 1];
                var read = await text.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
                if (read > MaxFieldChars)
                {
                    await upload.DisposeAsync();
                    return Failure.Invalid(name, $"The field '{name}' is longer than {MaxFieldChars} characters.");
                }

                upload.Add(name, new string(buffer, 0, read));
            }
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            await upload.DisposeAsync();
            return Malformed("The multipart body ended before its closing boundary: it is truncated, or its parts are not separated by the boundary declared in Content-Type.");
        }
        catch (InvalidDataException invalid)
        {
            await upload.DisposeAsync();
            return Malformed($"The multipart body is malformed: {invalid.Message}");
        }
        catch (BadHttpRequestException bad) when (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await upload.DisposeAsync();
            return TooLarge(maxBytes);
        }
        catch
        {
            await upload.DisposeAsync();
            throw;
        }

        return upload;
    }

    private void Add(string name, string value)
    {
        if (!((Dictionary<string, List<string>>)Fields).TryGetValue(name, out var values))
        {
            values = [];
            ((Dictionary<string, List<string>>)Fields).Add(name, values);
        }

        values.Add(value);
    }

    private async Task<Failure?> SpoolAsync(string fileName, Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        SpoolPath = Path.Combine(Path.GetTempPath(), $"aap-import-{Guid.NewGuid():N}.upload");
        FileName = Path.GetFileName(fileName.Replace('\\', '/'));
        await using var spool = new FileStream(SpoolPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            FileBytes += read;
            if (FileBytes > maxBytes)
            {
                return TooLarge(maxBytes);
            }

            await spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        return null;
    }

    private static Failure TooLarge(long maxBytes) =>
        Failure.Of(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge,
            $"The file is larger than the limit of {maxBytes} bytes (Imports:MaxUploadBytes); nothing was stored.", "file");

    private static Failure Malformed(string detail) => new(StatusCodes.Status400BadRequest, ProblemCodes.InvalidMultipart, detail);

    public ValueTask DisposeAsync()
    {
        if (SpoolPath is not null)
        {
            try
            {
                File.Delete(SpoolPath);
            }
            catch (IOException)
            {
                // The temporary folder is cleaned by the system anyway.
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The first value of a field, trimmed; null when absent or blank.</summary>
    public string? Value(string name) =>
        Fields.TryGetValue(name, out var values) && values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) is { } value ? value.Trim() : null;

    /// <summary>Every value of a field, comma-separated lists split.</summary>
    public List<string> List(string name) =>
        Fields.TryGetValue(name, out var values)
            ? [.. values.SelectMany(v => v.Split([',', '\n'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))]
            : [];

    /// <summary>Every value of a repeatable COLUMN=VALUE field (also one per line).</summary>
    public List<string> Lines(string name) =>
        Fields.TryGetValue(name, out var values)
            ? [.. values.SelectMany(v => v.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))]
            : [];
}
