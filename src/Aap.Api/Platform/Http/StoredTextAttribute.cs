using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;

namespace Aap.Api.Platform.Http;

/// <summary>
/// A text field as it will be stored: trimmed (and, with <see cref="Normalize"/>, in Unicode NFC), at most
/// <see cref="MaxLength"/> characters counted after that, and without NUL, which PostgreSQL cannot store. What
/// <c>[MaxLength]</c> cannot say: a value padded with spaces, or written with combining characters, fits when what is
/// kept fits. <c>ErrorMessage</c> is the too-long message; <c>{1}</c> in it is the limit. An empty value passes
/// (pair with <c>[Required]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
internal sealed class StoredTextAttribute(int maxLength) : ValidationAttribute
{
    public const string NoNul = "Text cannot contain the NUL character (U+0000).";

    public int MaxLength { get; } = maxLength;

    /// <summary>Compose the text to Unicode NFC before it is measured and stored.</summary>
    public bool Normalize { get; init; }

    /// <summary>The value as it is stored: trimmed (NFC when asked), or null when nothing is left.</summary>
    public static string? Clean(string? raw, bool normalize)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var trimmed = raw.Trim();
        return normalize ? trimmed.Normalize(NormalizationForm.FormC) : trimmed;
    }

    /// <summary>What is wrong with <paramref name="raw"/> as stored text, or null when it may be stored.</summary>
    public string? Check(string? raw)
    {
        var text = Clean(raw, Normalize);
        if (text is null)
        {
            return null;
        }

        if (text.Length > MaxLength)
        {
            return FormatErrorMessage("");
        }

        return text.Contains('\0', StringComparison.Ordinal) ? NoNul : null;
    }

    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.InvariantCulture, ErrorMessageString, name, MaxLength);

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        Check(value as string) is { } error ? new ValidationResult(error, validationContext.MemberName is { } member ? [member] : null) : ValidationResult.Success;
}
