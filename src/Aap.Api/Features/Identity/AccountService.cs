using System.Globalization;
using System.Net;
using System.Net.Mail;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Settings;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>Accounts: registration, credential checks with lockout, profile and password changes.</summary>
internal sealed partial class AccountService(
    UserManager<User> users,
    IPasswordHasher<User> hasher,
    CredentialThrottle throttle,
    IOptions<AuthOptions> options,
    RuntimeSettings settings,
    ILogger<AccountService> logger)
{
    public const int PasswordMinLength = 8;
    public const int PasswordMaxLength = 128;

    // Unknown users cost a password hash too, so response time does not tell which accounts exist.
    private static string? _dummyHash;

    public async Task<(User? User, FieldErrors Errors)> RegisterAsync(string? email, string? userName, string? password, string role, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var cleanEmail = CleanEmail(email, errors);
        var cleanName = CleanUserName(userName, errors);
        if (cleanEmail is null && cleanName is null && errors.Count == 0)
        {
            errors.Add("email", "Give an email address or a username.");
        }

        await CheckPasswordAsync(password, cleanName, cleanEmail, "password", errors, cancellationToken);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var user = new User { Email = cleanEmail, UserName = cleanName, Role = role };
        var result = await CreateAsync(user, password!, errors);
        if (result)
        {
            LogRegistered(user.Id, role);
            return (user, errors);
        }

        return (null, errors);
    }

    /// <summary>
    /// The user whose login (e-mail or user name) and password match, or no user; or, past the limits of
    /// <see cref="CredentialThrottle"/>, how long the caller must wait (then no password is hashed). Unknown users,
    /// wrong passwords and deactivated accounts are indistinguishable to the caller, and cost the same work: one
    /// look-up, one counted attempt, one password hash.
    /// </summary>
    public async Task<CredentialCheck> AuthenticateAsync(string? login, string? password, IPAddress? address, CancellationToken cancellationToken)
    {
        var byAddress = throttle.TryAddress(address);
        if (!byAddress.Allowed)
        {
            LogThrottled("address", null);
            return CredentialCheck.Throttled(byAddress);
        }

        login = login?.Trim();
        if (string.IsNullOrEmpty(login) || string.IsNullOrEmpty(password) || password.Length > PasswordMaxLength || login.Length > UserConfiguration.EmailMaxLength)
        {
            SpendHash(password ?? "");
            return CredentialCheck.Failed;
        }

        var user = login.Contains('@', StringComparison.Ordinal)
            ? await users.FindByEmailAsync(login) ?? await users.FindByNameAsync(login)
            : await users.FindByNameAsync(login) ?? await users.FindByEmailAsync(login);
        var key = user is null ? CredentialThrottle.UnknownLoginKey(login) : CredentialThrottle.AccountKey(user.Id);
        var attempt = await throttle.TryTakeAsync(key, address, cancellationToken);
        if (!attempt.Allowed)
        {
            LogThrottled("account", user?.Id);
            return CredentialCheck.Throttled(attempt);
        }

        if (user is null)
        {
            SpendHash(password);
            LogLoginFailed("unknown user", null);
            return CredentialCheck.Failed;
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            LogLoginFailed("wrong password", user.Id);
            return CredentialCheck.Failed;
        }

        await throttle.ForgiveAsync(key, address, cancellationToken);
        if (!user.IsActive)
        {
            LogLoginFailed("deactivated", user.Id);
            return CredentialCheck.Failed;
        }

        LogLoggedIn(user.Id);
        return new CredentialCheck(user, null);
    }

    public Task<User?> FindAsync(long id, CancellationToken cancellationToken) =>
        users.Users.SingleOrDefaultAsync(u => u.Id == id && u.IsActive, cancellationToken);

    /// <summary>Changes the user name and/or e-mail; a field left null is kept.</summary>
    public async Task<FieldErrors> UpdateProfileAsync(User user, string? userName, string? email, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var cleanName = userName is null ? user.UserName : CleanUserName(userName, errors);
        var cleanEmail = email is null ? user.Email : CleanEmail(email, errors);
        if (errors.Count > 0)
        {
            return errors;
        }

        if (cleanName is null && cleanEmail is null)
        {
            errors.Add("email", "An account keeps an email address or a username.");
            return errors;
        }

        user.UserName = cleanName;
        user.Email = cleanEmail;
        await SaveAsync(() => users.UpdateAsync(user), errors);
        return errors;
    }

    /// <summary>
    /// Changes the password of a user who proves the current one. A wrong current password counts as a failed
    /// attempt of the account (<see cref="CredentialThrottle"/>); past the limit the answer is the wait, and no
    /// password is hashed.
    /// </summary>
    public async Task<(FieldErrors Errors, TimeSpan? RetryAfter)> ChangePasswordAsync(
        User user, string? currentPassword, string? newPassword, IPAddress? address, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var key = CredentialThrottle.AccountKey(user.Id);
        var attempt = throttle.TryAddress(address) is { Allowed: false } byAddress ? byAddress : await throttle.TryTakeAsync(key, address, cancellationToken);
        if (!attempt.Allowed)
        {
            LogThrottled("password change", user.Id);
            return (errors, attempt.RetryAfter);
        }

        if (string.IsNullOrEmpty(currentPassword) || currentPassword.Length > PasswordMaxLength || !await users.CheckPasswordAsync(user, currentPassword))
        {
            LogLoginFailed("wrong current password on password change", user.Id);
            errors.Add("current_password", "The current password is not correct.");
            return (errors, null);
        }

        await throttle.ForgiveAsync(key, address, cancellationToken);
        await CheckPasswordAsync(newPassword, user.UserName, user.Email, "new_password", errors, cancellationToken);
        if (errors.Count == 0)
        {
            await SaveAsync(() => users.ChangePasswordAsync(user, currentPassword, newPassword!), errors, "new_password");
        }

        return (errors, null);
    }

    private async Task<bool> CreateAsync(User user, string password, FieldErrors errors) =>
        await SaveAsync(() => users.CreateAsync(user, password), errors, "password");

    private static async Task<bool> SaveAsync(Func<Task<IdentityResult>> save, FieldErrors errors, string passwordField = "password")
    {
        try
        {
            var result = await save();
            foreach (var error in result.Errors)
            {
                errors.Add(FieldOf(error.Code, passwordField), error.Description);
            }

            return result.Succeeded;
        }
        catch (DbUpdateException)
        {
            // Two registrations raced past the uniqueness check; the unique index decided.
            errors.Add("email", "This email address or username is already registered.");
            return false;
        }
    }

    private static string FieldOf(string code, string passwordField) => code switch
    {
        _ when code.StartsWith("Password", StringComparison.Ordinal) => passwordField,
        "DuplicateUserName" or "InvalidUserName" => "username",
        _ => "email",
    };

    /// <summary>
    /// Length (8 to 128, no composition rules), not the user name or e-mail, and not a common or breached password
    /// (OWASP ASVS 5.0 V6.2): the checks are in that order and the first failure is the one reported.
    /// </summary>
    private async Task CheckPasswordAsync(string? password, string? userName, string? email, string field, FieldErrors errors, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add(field, "A password is required.");
        }
        else if (password.Length is < PasswordMinLength or > PasswordMaxLength)
        {
            errors.Add(field, $"A password has {PasswordMinLength} to {PasswordMaxLength} characters.");
        }
        else if (options.Value.RejectPasswordEqualToIdentity &&
                 (string.Equals(password, userName, StringComparison.OrdinalIgnoreCase) || string.Equals(password, email, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(field, "The password must differ from the username and the email address.");
        }
        else if (await settings.GetAsync(AuthSettings.RefuseCommonPasswords, cancellationToken) == 1 && CommonPasswords.IsCommon(password, userName, email))
        {
            errors.Add(field, CommonPasswords.Explanation);
        }
    }

    private void SpendHash(string password)
    {
        _dummyHash ??= hasher.HashPassword(new User(), Guid.NewGuid().ToString());
        hasher.VerifyHashedPassword(new User(), _dummyHash, password);
    }

    internal static string? CleanEmail(string? raw, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var email = raw.Trim().Normalize(NormalizationForm.FormC);
        if (HasHiddenCharacters(email))
        {
            errors.Add("email", "The email address contains control or invisible characters.");
        }
        else if (email.Length > UserConfiguration.EmailMaxLength || email.Any(char.IsWhiteSpace) ||
                 !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            errors.Add("email", "Enter a valid email address.");
        }

        return email;
    }

    internal static string? CleanUserName(string? raw, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var name = raw.Trim().Normalize(NormalizationForm.FormC);
        if (HasHiddenCharacters(name))
        {
            errors.Add("username", "The username contains control or invisible characters.");
        }
        else if (name.Length > UserConfiguration.UserNameMaxLength)
        {
            errors.Add("username", $"A username has at most {UserConfiguration.UserNameMaxLength} characters.");
        }
        else if (name.Contains('@', StringComparison.Ordinal))
        {
            errors.Add("username", "A username cannot contain '@'; that is how an email address is told apart.");
        }

        return name;
    }

    /// <summary>Control characters, and format characters: zero-width spaces and joiners, bidi overrides and isolates, BOM.</summary>
    internal static bool HasHiddenCharacters(string value) =>
        value.Any(c => char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} registered with role {Role}")]
    private partial void LogRegistered(long userId, string role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Login succeeded for user {UserId}")]
    private partial void LogLoggedIn(long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Password attempt refused before checking: too many attempts by {Limit} (user {UserId})")]
    private partial void LogThrottled(string limit, long? userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login failed ({Reason}) for user {UserId}")]
    private partial void LogLoginFailed(string reason, long? userId);
}

/// <summary>The outcome of a credential check: the user, no user, or how long to wait before trying again.</summary>
internal readonly record struct CredentialCheck(User? User, TimeSpan? RetryAfter)
{
    public static readonly CredentialCheck Failed = new(null, null);

    public static CredentialCheck Throttled(AttemptDecision decision) => new(null, decision.RetryAfter);
}

/// <summary>
/// Identity's own user validation requires a user name; AAP accounts need an e-mail or a user name. This checks
/// that one is set and that both are unique, case-insensitively, on create and on update.
/// </summary>
internal sealed class AccountValidator : IUserValidator<User>
{
    public async Task<IdentityResult> ValidateAsync(UserManager<User> manager, User user)
    {
        if (string.IsNullOrEmpty(user.UserName) && string.IsNullOrEmpty(user.Email))
        {
            return IdentityResult.Failed(new IdentityError { Code = "InvalidEmail", Description = "Give an email address or a username." });
        }

        var errors = new List<IdentityError>();
        if (!string.IsNullOrEmpty(user.UserName) && await manager.FindByNameAsync(user.UserName) is { } named && named.Id != user.Id)
        {
            errors.Add(new IdentityError { Code = "DuplicateUserName", Description = "This username is already taken." });
        }

        if (!string.IsNullOrEmpty(user.Email) && await manager.FindByEmailAsync(user.Email) is { } mailed && mailed.Id != user.Id)
        {
            errors.Add(new IdentityError { Code = "DuplicateEmail", Description = "This email address is already registered." });
        }

        return errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]);
    }
}
