using System.ComponentModel.DataAnnotations;
using Aap.Api.Platform.Security;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Storage;

internal enum StorageProvider
{
    Local,
    S3,
}

/// <summary>Where uploaded files are kept and what is accepted. Section <c>Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><c>Local</c> (files under <c>$AAP_DATA_DIR/files</c>) or <c>S3</c> (any S3-compatible store).</summary>
    public string Provider { get; set; } = nameof(StorageProvider.Local);

    /// <summary>Largest upload accepted, in bytes (default 5 MB); larger ones get 413.</summary>
    [Range(1, 5L * 1024 * 1024 * 1024)]
    public long MaxFileBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>How long a download link works without a token, in seconds.</summary>
    [Range(10, 7 * 24 * 3600)]
    public int LinkSeconds { get; set; } = 300;

    /// <summary>
    /// Base64 of at least 32 random bytes: the key AAP signs the download links of the local store with. It is not the
    /// token signing key, so either can be rotated without breaking the other. Required outside Development, where one
    /// is generated into <c>$AAP_DATA_DIR/keys</c>.
    /// </summary>
    public string? LinkSigningKey { get; set; }

    /// <summary>Keys (base64) whose links are still accepted until they expire, so that the link key can be rotated.</summary>
    public List<string> PreviousLinkSigningKeys { get; set; } = [];

    /// <summary>Folder of the local store; defaults to <c>$AAP_DATA_DIR/files</c>.</summary>
    public string? LocalPath { get; set; }

    /// <summary>
    /// The file types each category accepts (names from <see cref="FileTypes"/>); an upload names its category, and one
    /// not listed here is refused. <see cref="DefaultCategories"/> fills in the categories the configuration leaves out.
    /// </summary>
    public Dictionary<string, string[]> Categories { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>uploads</c> and <c>screenshots</c> with their types, unless configured. Not the properties' initial values:
    /// the configuration binder adds a configured list to the list it finds instead of replacing it, so a category
    /// narrowed to <c>png</c> would have kept every default type besides.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string[]> DefaultCategories = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["uploads"] = ["png", "jpeg", "gif", "webp", "pdf"],
        ["screenshots"] = ["png", "jpeg", "webp"],
    };

    /// <summary>After binding: the default categories the configuration did not name.</summary>
    internal void AddDefaultCategories()
    {
        foreach (var (category, types) in DefaultCategories)
        {
            Categories.TryAdd(category, [.. types]);
        }
    }

    public S3Options S3 { get; set; } = new();

    public StorageProvider ProviderKind =>
        Enum.TryParse<StorageProvider>(Provider, ignoreCase: true, out var kind) ? kind : StorageProvider.Local;

    internal sealed class S3Options
    {
        public string? Bucket { get; set; }

        /// <summary>Endpoint of an S3-compatible store (MinIO, moto, ...); empty for AWS itself.</summary>
        public string? ServiceUrl { get; set; }

        public string Region { get; set; } = "us-east-1";

        /// <summary>Address buckets as <c>host/bucket</c> rather than <c>bucket.host</c> (most S3-compatible stores need it).</summary>
        public bool ForcePathStyle { get; set; }

        /// <summary>Create the bucket at start when it does not exist.</summary>
        public bool CreateBucket { get; set; }

        /// <summary>Ask the store to encrypt objects at rest (SSE-S3, AES-256).</summary>
        public bool ServerSideEncryption { get; set; } = true;
    }
}

internal sealed class StorageOptionsValidator(IHostEnvironment environment) : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.LinkSigningKey))
        {
            if (!environment.IsDevelopment())
            {
                failures.Add("Storage:LinkSigningKey is required outside Development: base64 of at least 32 random bytes (for example `openssl rand -base64 48`), not the same as Auth:SigningKey.");
            }
        }
        else if (!KeyMaterial.TryDecode(options.LinkSigningKey, out _))
        {
            failures.Add("Storage:LinkSigningKey must be base64 of at least 32 bytes.");
        }

        if (options.PreviousLinkSigningKeys.Any(key => !KeyMaterial.TryDecode(key, out _)))
        {
            failures.Add("Storage:PreviousLinkSigningKeys entries must be base64 of at least 32 bytes.");
        }

        if (!Enum.TryParse<StorageProvider>(options.Provider, ignoreCase: true, out var provider) || !Enum.IsDefined(provider))
        {
            failures.Add($"Storage:Provider must be 'Local' or 'S3', not '{options.Provider}'.");
        }
        else if (provider == StorageProvider.S3 && string.IsNullOrWhiteSpace(options.S3.Bucket))
        {
            failures.Add("Storage:S3:Bucket is required when Storage:Provider is 'S3'.");
        }

        if (!string.IsNullOrWhiteSpace(options.S3.ServiceUrl) && !Uri.TryCreate(options.S3.ServiceUrl, UriKind.Absolute, out _))
        {
            failures.Add("Storage:S3:ServiceUrl must be an absolute URL.");
        }

        foreach (var (category, type) in options.Categories.SelectMany(c => c.Value.Select(type => (c.Key, type))))
        {
            if (FileTypes.Find(type) is null)
            {
                failures.Add($"Storage:Categories:{category} names an unknown file type '{type}'; known: {string.Join(", ", FileTypes.All.Select(t => t.Name))}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
