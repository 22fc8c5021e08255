namespace Aap.Api.Features.Identity;

/// <summary>
/// Recognises passwords that attackers try first: the entries of common-password and breach lists (zxcvbn's
/// list of the 30,000 most frequent leaked passwords, with English words, names and film vocabulary), and the
/// small variations people make of them: capitals, l33t substitutions, appended digits or years, repeats,
/// reversals, keyboard walks, sequences, dates, two common words glued together, and the account's own user
/// name or e-mail address. The test is zxcvbn's lowest score, an estimate of fewer than about two million
/// guesses; it is a list check with variations, not a composition rule: no character class is ever required.
/// </summary>
internal static class CommonPasswords
{
    /// <summary>
    /// Only this many leading characters are estimated. zxcvbn's cost grows quickly with length (a random
    /// 128-character password takes about a quarter of a second of CPU here, more than the hash), while a
    /// 40-character prefix already sits far above the guessable range unless it is itself a list entry or a
    /// variation of one.
    /// </summary>
    public const int EstimatedLength = 40;

    // The dictionaries are read into memory on first use (about half a second) and are only read afterwards,
    // so one estimator serves every request.
    private static readonly Zxcvbn.Zxcvbn Estimator = new();

    public const string Explanation =
        "This password is too common: it is on lists of common or breached passwords, or is a small variation of one " +
        "(or of the username or email address), so attackers try it first. Choose a longer phrase, for example a few unrelated words.";

    public static bool IsCommon(string password, string? userName, string? email)
    {
        var estimated = password.Length > EstimatedLength ? password[..EstimatedLength] : password;
        var userInputs = new List<string>(3);
        if (!string.IsNullOrEmpty(userName))
        {
            userInputs.Add(userName);
        }

        if (!string.IsNullOrEmpty(email))
        {
            userInputs.Add(email);
            userInputs.Add(email.Split('@')[0]);
        }

        return Estimator.EvaluatePassword(estimated, userInputs).Score == 0;
    }
}
