using System.Security.Cryptography.X509Certificates;
using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.DataProtection;

namespace Aap.Api.Platform.Security;

/// <summary>
/// Where the Data Protection keys live (antiforgery tokens and anything else protected): in the database, so that a
/// form rendered by one node is accepted by another. Section <c>DataProtection</c>.
/// </summary>
internal sealed class DataProtectionSettings
{
    public const string SectionName = "DataProtection";

    /// <summary>A PKCS#12 (.pfx) file whose certificate encrypts the keys at rest; without it they are stored in clear.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }
}

internal static partial class DataProtectionSetup
{
    public const string ApplicationName = "aap";

    public static WebApplicationBuilder AddAapDataProtection(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(DataProtectionSettings.SectionName).Get<DataProtectionSettings>() ?? new DataProtectionSettings();
        var protection = builder.Services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<AppDbContext>();
        if (!string.IsNullOrWhiteSpace(settings.CertificatePath))
        {
            // A wrong path or password stops start-up here, naming the file: better than keys nobody can read later.
            protection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath, settings.CertificatePassword));
        }
        else if (!builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<UnprotectedKeysWarning>();
        }

        return builder;
    }

    /// <summary>Says once, at start-up, that the key ring is stored unencrypted and how to change that.</summary>
    private sealed partial class UnprotectedKeysWarning(ILogger<UnprotectedKeysWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogUnprotected(logger);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "Data Protection keys are stored unencrypted in the database (table data_protection_keys): anyone who reads the database can forge antiforgery tokens. Set DataProtection:CertificatePath (a .pfx) and DataProtection:CertificatePassword to encrypt them at rest.")]
        private static partial void LogUnprotected(ILogger logger);
    }
}
