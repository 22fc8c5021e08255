using System.Diagnostics.Metrics;

namespace Aap.Api.Features.Files;

/// <summary>The meter <c>aap.files</c>: uploads stored (count and bytes, by category) and refused (by reason).</summary>
internal sealed class FilesMetrics
{
    public const string MeterName = "aap.files";

    private readonly Counter<long> _uploads;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _refusals;

    public FilesMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _uploads = meter.CreateCounter<long>("aap.files.uploads", "{file}", "Uploads stored, by category.");
        _bytes = meter.CreateCounter<long>("aap.files.upload_bytes", "By", "Bytes of the uploads stored, by category.");
        _refusals = meter.CreateCounter<long>("aap.files.upload_refusals", "{file}",
            "Uploads refused, by reason (the problem code: validation_failed, payload_too_large, unsupported_media_type).");
    }

    public void Stored(string category, long bytes)
    {
        var tag = new KeyValuePair<string, object?>("category", category);
        _uploads.Add(1, tag);
        _bytes.Add(bytes, tag);
    }

    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
