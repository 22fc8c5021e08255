using System.ComponentModel.DataAnnotations;

namespace Aap.Api.Features.Isins;

/// <summary>The daily ISIN download's settings (<c>Jobs:Isin:*</c>, docs/configuration.md and docs/isins.md).</summary>
internal sealed class IsinOptions : IValidatableObject
{
    public const string SectionName = "Jobs:Isin";

    /// <summary>
    /// GLEIF's daily ISIN-to-LEI relationship file (a ZIP holding one CSV <c>LEI,ISIN</c>, about 9 million rows):
    /// the "latest" link of https://www.gleif.org/en/lei-data/lei-mapping/download-isin-to-lei-relationship-files.
    /// </summary>
    public const string GleifLatest = "https://mapping.gleif.org/api/v2/isin-lei/latest/download";

    /// <summary>False leaves the job out of the scheduler (it is neither listed nor run).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the list is downloaded from: a ZIP with one CSV, a gzip-compressed CSV, or a plain CSV with an ISIN column.</summary>
    [Required]
    public string SourceUrl { get; set; } = GleifLatest;

    /// <summary>How long one HTTP attempt may take to answer (its status and headers); the body has <see cref="DownloadTimeoutSeconds"/>.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>How long the whole download (every attempt and the body) may take.</summary>
    [Range(1, 86_400)]
    public int DownloadTimeoutSeconds { get; set; } = 1800;

    /// <summary>HTTP attempts after the first, on a 5xx, 408, 429, a network error or a timeout, with exponential backoff.</summary>
    [Range(0, 10)]
    public int RetryAttempts { get; set; } = 3;

    /// <summary>The first retry's delay in milliseconds; each next one doubles it (with jitter).</summary>
    [Range(0, 600_000)]
    public int RetryDelayMilliseconds { get; set; } = 2000;

    /// <summary>A download larger than this is refused (GLEIF's ZIP is about 35 MB).</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 1L << 30;

    /// <summary>The CSV inside a ZIP or gzip may expand to at most this (GLEIF's is about 350 MB): a guard against a decompression bomb.</summary>
    [Range(1, long.MaxValue)]
    public long MaxExpandedBytes { get; set; } = 8L << 30;

    /// <summary>More invalid rows than this percentage of the file fails the run and keeps the current list.</summary>
    [Range(0, 100)]
    public double MaxInvalidPercent { get; set; } = 5;

    /// <summary>
    /// A file that would remove more than this percentage of the current list fails the run and keeps the list: a
    /// truncated file that still parses is not allowed to empty the table. 100 turns the guard off.
    /// </summary>
    [Range(0, 100)]
    public double MaxRemovedPercent { get; set; } = 50;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(SourceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult($"Jobs:Isin:SourceUrl '{SourceUrl}' is not an absolute http(s) URL.", [nameof(SourceUrl)]);
        }

        if (DownloadTimeoutSeconds < TimeoutSeconds)
        {
            yield return new ValidationResult("Jobs:Isin:DownloadTimeoutSeconds must be at least Jobs:Isin:TimeoutSeconds.", [nameof(DownloadTimeoutSeconds)]);
        }
    }
}
