using System.Globalization;
using Aap.Api.Features.Apps;

namespace Aap.Api.Web.Pages.Admin.Apps;

/// <summary>
/// The fields of the new-app and edit-app forms, posted as <c>Input.*</c>. Points stay text so that a value that is
/// not a number comes back as typed, next to the service's error.
/// </summary>
internal sealed class AppFormInput
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public string? Link { get; set; }

    public string? Points { get; set; }

    public string? Category { get; set; }

    public bool IsActive { get; set; } = true;

    public AppRequest ToRequest() => new(
        Name,
        Link,
        int.TryParse(Points, NumberStyles.Integer, CultureInfo.InvariantCulture, out var points) ? points : null,
        Description,
        Category,
        IsActive);

    public static AppFormInput Of(AdminAppResponse app) => new()
    {
        Name = app.Name,
        Description = app.Description,
        Link = app.Link,
        Points = app.Points.ToString(CultureInfo.InvariantCulture),
        Category = app.Category,
        IsActive = app.IsActive,
    };
}

/// <summary>What <c>_AppForm.cshtml</c> renders: the input, the categories to choose from, the failure's field errors and the button.</summary>
internal sealed record AppFormView(AppFormInput Input, IReadOnlyList<AppCategoryChoice> Categories, IReadOnlyDictionary<string, string[]>? Errors, string Submit);
