using System.Globalization;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Points;

/// <summary>
/// <c>/points</c>: the balance, the ledger (paged), and a transfer in two steps: "Review transfer" shows what will
/// happen, "Confirm transfer" sends it through the same <see cref="RewardsService.SendPointsAsync"/> as
/// <c>POST /api/v1/points/transfers</c>. The form carries an idempotency key made when it was rendered, so the same
/// confirmation posted twice (a double click, a reload) transfers once.
/// </summary>
internal sealed class PointsModel(RewardsService rewards, IdempotencyStore idempotency) : PageModel
{
    private const int LedgerSize = 20;

    [BindProperty]
    public TransferInput Input { get; set; } = new();

    /// <summary>The transfer just sent (after the redirect), for the status message.</summary>
    [BindProperty(SupportsGet = true, Name = "sent")]
    public long? Sent { get; set; }

    public long Balance { get; private set; }

    public PagedEnvelope<LedgerEntryResponse> Ledger { get; private set; } = new([], new PageMeta(1, LedgerSize, 0, 0));

    /// <summary>True on the review step: the form shows what will happen and asks for confirmation.</summary>
    public bool Reviewing { get; private set; }

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    private long Me => User.UserId()!.Value;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Input = new TransferInput { Key = NewKey() };
        await LoadAsync(cancellationToken);
    }

    /// <summary>The first step: checks the form's own rules and shows the transfer for confirmation.</summary>
    public async Task<IActionResult> OnPostReviewAsync(CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(Input.To))
        {
            errors.Add("to", "Name the recipient by username or email.");
        }

        if (Amount is not ( > 0 and <= 1_000_000_000))
        {
            errors.Add("amount", "The amount is a whole number of points above 0.");
        }

        Input.Key ??= NewKey();
        if (errors.Count > 0)
        {
            return await ShowAsync(Failure.Invalid(errors, "The transfer is not valid."), cancellationToken);
        }

        Reviewing = true;
        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>Back from the review to the form, with what was entered.</summary>
    public async Task<IActionResult> OnPostChangeAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostConfirmAsync(CancellationToken cancellationToken)
    {
        var attempt = await rewards.SendPointsAsync(Me, Input.To, Amount, Input.Key, idempotency, cancellationToken);
        if (attempt.Outcome.Succeeded)
        {
            return RedirectToPage(new { sent = attempt.Outcome.Value.Id });
        }

        // The refusal is stored under this key (the same confirmation again gets it again): a corrected form needs a new key.
        Input.Key = NewKey();
        return await ShowAsync(attempt.Outcome.Failure, cancellationToken);
    }

    private long? Amount => long.TryParse(Input.Amount, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) ? amount : null;

    private async Task<IActionResult> ShowAsync(Failure failure, CancellationToken cancellationToken)
    {
        Response.StatusCode = failure.Status;
        Errors = failure.Errors;
        Alert = failure.Detail;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Balance = await rewards.BalanceAsync(Me, cancellationToken);
        Ledger = await rewards.LedgerAsync(Me, new PageQuery { Page = PageLinks.PageNumberOf(Request), Size = LedgerSize }, cancellationToken);
    }

    private static string NewKey() => "web-" + Guid.NewGuid().ToString("N");

    /// <summary>What a ledger entry was, as a person reads it.</summary>
    public static string Describe(LedgerEntryResponse entry) => entry.Reason switch
    {
        "completion" => "Task completed",
        "reversal" => "Completion reversed",
        "transfer_out" => "Points sent",
        "transfer_in" => "Points received",
        _ => entry.Reason,
    };

    internal sealed class TransferInput
    {
        public string? To { get; set; }

        /// <summary>Text, so that "abc" is a field error rather than a binding failure.</summary>
        public string? Amount { get; set; }

        public string? Key { get; set; }
    }
}
