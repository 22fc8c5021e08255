using System.Globalization;
using System.Net;
using System.Net.Mail;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Aap.Api.Platform;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>
/// Accounts: registration, credential checks with lockout, profile and password changes, and the look-ups other
/// features make. It hands out <see cref="Account"/> records, never the <see cref="User"/> entity.
/// </summary>
[FeatureSurface]
internal sealed partial class AccountService(
    AppDbContext db,
    UserManager<User> users,
    IPasswordHasher<User> hasher,
    CredentialThrottle throttle,
    IOptions<AuthOptions> options,
    RuntimeSettings settings,
    AuditLog audit,
    TokenService tokens,
    TimeProvider clock,
    IdentityMetrics metrics,
    ProfileCache profiles,
    ILogger<AccountService> logger)
{
    public const int PasswordMinLength = 8;
    public const int PasswordMaxLength = 128;

    private const string CannotCreate = "The account cannot be created.";

    // Unknown users cost a password hash too, so response time does not tell which accounts exist.
    private static string? _dummyHash;

    /// <summary>A new account, or the fields that stop it (detail "The account cannot be created.").</summary>
    public async Task<Result<Account>> RegisterAsync(string? email, string? userName, string? password, string role, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var cleanEmail = CleanEmail(email, errors);
        var cleanName = CleanUserName(userName, errors);
        if (cleanEmail is null && cleanName is null && errors.Count == 0)
        {
            errors.Add("email", "Give an email address or a username.");
        }

        await CheckPasswordAsync(password, cleanName, cleanEmail, "password", errors, cancellationToken);
        if (errors.Count == 0)
        {
            var user = new User { Email = cleanEmail, UserName = cleanName, Role = role };
            // Admins are made by the command line or the bootstrap, never by signing up: that is worth a record, saved
            // with the account or not at all.
            await using var transaction = role == Roles.Admin ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
            if (await CreateAsync(user, password!, errors))
            {
                if (transaction is not null)
                {
                    await audit.RecordAsync("user.created", "user", user.Id.ToString(CultureInfo.InvariantCulture), null, UserAuditSnapshot.Of(user), cancellationToken);
                    await db.SaveChangesAsync(cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                }

                LogRegistered(user.Id, role);
                metrics.SignedUp(role);
                return Account.From(user);
            }
        }

        return Failure.Invalid(errors, CannotCreate);
    }

    /// <summary>
    /// The account whose login (e-mail or user name) and password match, or <see cref="AuthResponses.InvalidCredentials"/>;
    /// or, past the limits of <see cref="CredentialThrottle"/>, <see cref="AuthResponses.TooManyAttempts"/> with how long
    /// the caller must wait (then no password is hashed). Unknown users, wrong passwords and deactivated accounts are
    /// indistinguishable to the caller, and cost the same work: one look-up, one counted attempt, one password hash.
    /// </summary>
    public async Task<Result<Account>> AuthenticateAsync(string? login, string? password, IPAddress? address, CancellationToken cancellationToken)
    {
        var byAddress = throttle.TryAddress(address);
        if (!byAddress.Allowed)
        {
            LogThrottled("address", null);
            metrics.LockedOut("address");
            return AuthResponses.TooManyAttempts(byAddress.RetryAfter);
        }

        login = login?.Trim();
        if (string.IsNullOrEmpty(login) || string.IsNullOrEmpty(password) || password.Length > PasswordMaxLength || login.Length > UserConfiguration.EmailMaxLength)
        {
            SpendHash(password ?? "");
            metrics.SignIn("invalid_input");
            return AuthResponses.InvalidCredentials;
        }

        var user = login.Contains('@', StringComparison.Ordinal)
            ? await users.FindByEmailAsync(login) ?? await users.FindByNameAsync(login)
            : await users.FindByNameAsync(login) ?? await users.FindByEmailAsync(login);
        var key = user is null ? CredentialThrottle.UnknownLoginKey(login) : CredentialThrottle.AccountKey(user.Id);
        var attempt = await throttle.TryTakeAsync(key, address, cancellationToken);
        if (!attempt.Allowed)
        {
            LogThrottled("account", user?.Id);
            metrics.LockedOut("account");
            return AuthResponses.TooManyAttempts(attempt.RetryAfter);
        }

        if (user is null)
        {
            SpendHash(password);
            LogLoginFailed("unknown user", null);
            metrics.SignIn("unknown_user");
            return AuthResponses.InvalidCredentials;
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            LogLoginFailed("wrong password", user.Id);
            metrics.SignIn("wrong_password");
            return AuthResponses.InvalidCredentials;
        }

        await throttle.ForgiveAsync(key, address, cancellationToken);
        if (!user.IsActive)
        {
            LogLoginFailed("deactivated", user.Id);
            metrics.SignIn("deactivated");
            return AuthResponses.InvalidCredentials;
        }

        LogLoggedIn(user.Id);
        metrics.SignIn("succeeded");
        return Account.From(user);
    }

    /// <summary>The active account with this id.</summary>
    public async Task<Account?> FindAsync(long id, CancellationToken cancellationToken) =>
        await users.Users.AsNoTracking().Where(u => u.Id == id && u.IsActive)
            .Select(u => new Account(u.Id, u.UserName, u.Email, u.Role, u.IsActive, u.CreatedAt, u.UpdatedAt))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>Every account, active or not, in the order they were created.</summary>
    public async Task<IReadOnlyList<Account>> ListAsync(CancellationToken cancellationToken) =>
        await users.Users.AsNoTracking().OrderBy(u => u.Id)
            .Select(u => new Account(u.Id, u.UserName, u.Email, u.Role, u.IsActive, u.CreatedAt, u.UpdatedAt))
            .ToListAsync(cancellationToken);

    /// <summary>
    /// A page of accounts for admins, newest first: <paramref name="q"/> is looked for in the user name and the e-mail
    /// (case-insensitively, as Identity normalises them), <paramref name="role"/> is admin or user (any case).
    /// </summary>
    public async Task<Result<PagedEnvelope<AdminUserResponse>>> SearchAsync(string? q, string? role, bool? active, PageQuery paging, CancellationToken cancellationToken)
    {
        return Search(q, role, active, out var found) is { } failure
            ? failure
            : await found.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id).Select(AdminUserProjection).ToPageDataAsync(paging, cancellationToken);
    }

    /// <summary>The same accounts, newest first, one keyset page at a time.</summary>
    public async Task<Result<KeysetEnvelope<AdminUserResponse>>> SearchAsync(string? q, string? role, bool? active, KeysetRequest keyset, CancellationToken cancellationToken)
    {
        return Search(q, role, active, out var found) is { } failure
            ? failure
            : await found.ToKeysetPageAsync(keyset, u => u.CreatedAt, u => u.Id, AdminUserProjection, u => new KeysetPosition(u.CreatedAt, u.Id), cancellationToken);
    }

    private static readonly System.Linq.Expressions.Expression<Func<User, AdminUserResponse>> AdminUserProjection =
        u => new AdminUserResponse(u.Id, u.UserName, u.Email, u.Role, u.IsActive, u.CreatedAt);

    /// <summary>The accounts the filters keep, or the failure of a role that is neither admin nor user.</summary>
    private Failure? Search(string? q, string? role, bool? active, out IQueryable<User> query)
    {
        query = users.Users.AsNoTracking();
        var roleName = role?.Trim() switch
        {
            null or "" => null,
            var r when r.Equals(Roles.Admin, StringComparison.OrdinalIgnoreCase) => Roles.Admin,
            var r when r.Equals(Roles.User, StringComparison.OrdinalIgnoreCase) => Roles.User,
            _ => "",
        };
        if (roleName == "")
        {
            return Failure.Invalid("role", "Use admin or user.");
        }

        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = q.Trim().Normalize(NormalizationForm.FormC).ToUpperInvariant();
            query = query.Where(u => (u.NormalizedUserName != null && u.NormalizedUserName.Contains(term)) || (u.NormalizedEmail != null && u.NormalizedEmail.Contains(term)));
        }

        query = roleName is null ? query : query.Where(u => u.Role == roleName);
        query = active is { } isActive ? query.Where(u => u.IsActive == isActive) : query;
        return null;
    }

    /// <summary>
    /// The account a login names, active or not (<see cref="Account.IsActive"/> says): by e-mail when the login
    /// contains '@', else by user name; both compared as Identity normalises them.
    /// </summary>
    public async Task<Account?> FindByLoginAsync(string login, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var user = login.Contains('@', StringComparison.Ordinal) ? await users.FindByEmailAsync(login) : await users.FindByNameAsync(login);
        return user is null ? null : Account.From(user);
    }

    /// <summary>
    /// The name each account is shown under to others: its user name, or the local part of its e-mail. One active
    /// account (the user a completion's answer names, completing one app after another) is looked up through the
    /// <see cref="ProfileCache"/>, which keeps it from one request to the next; others, and an inactive one, are read.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, string>> DisplayNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 1 && await profiles.FindActiveAsync(db, ids.First(), cancellationToken) is { } account)
        {
            return new Dictionary<long, string> { [account.Id] = DisplayName(account.UserName, account.Email) };
        }

        var rows = await users.Users.AsNoTracking().Where(u => ids.Contains(u.Id))
            .Select(u => new { u.Id, u.UserName, u.Email }).ToListAsync(cancellationToken);
        return rows.ToDictionary(u => u.Id, u => DisplayName(u.UserName, u.Email));
    }

    private static string DisplayName(string? userName, string? email) => userName ?? email?.Split('@')[0] ?? "";

    /// <summary>
    /// A demo account without a password (it cannot log in until one is set), for the demo data; null when the
    /// user name is taken. Names are stored as given, without the checks of <see cref="RegisterAsync"/>.
    /// </summary>
    public async Task<long?> CreateDemoAccountAsync(string userName, string email, CancellationToken cancellationToken)
    {
        var normalizedName = userName.ToUpperInvariant();
        if (await db.Set<User>().AnyAsync(u => u.NormalizedUserName == normalizedName, cancellationToken))
        {
            return null;
        }

        var user = new User
        {
            UserName = userName,
            NormalizedUserName = normalizedName,
            Email = email,
            NormalizedEmail = email.ToUpperInvariant(),
            SecurityStamp = Guid.NewGuid().ToString("N"),
            LockoutEnabled = true,
        };
        db.Set<User>().Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return user.Id;
    }

    /// <summary>
    /// Changes the user name and/or e-mail of an active account; a field left null is kept. The account as saved, or
    /// <see cref="AuthResponses.AccountGone"/>, or the fields that stop it (detail "The profile cannot be changed.").
    /// </summary>
    public async Task<Result<Account>> UpdateProfileAsync(long userId, string? userName, string? email, CancellationToken cancellationToken)
    {
        if (await FindActiveUserAsync(userId, cancellationToken) is not { } user)
        {
            return AuthResponses.AccountGone;
        }

        var errors = new FieldErrors();
        var cleanName = userName is null ? user.UserName : CleanUserName(userName, errors);
        var cleanEmail = email is null ? user.Email : CleanEmail(email, errors);
        if (errors.Count == 0 && cleanName is null && cleanEmail is null)
        {
            errors.Add("email", "An account keeps an email address or a username.");
        }

        if (errors.Count == 0)
        {
            user.UserName = cleanName;
            user.Email = cleanEmail;
            await SaveAsync(() => users.UpdateAsync(user), errors);
        }

        return errors.Count > 0 ? Failure.Invalid(errors, "The profile cannot be changed.") : Account.From(user);
    }

    /// <summary>
    /// Changes the password of an active account whose caller proves the current one; the account, or
    /// <see cref="AuthResponses.AccountGone"/>, or the fields that stop it (detail "The password cannot be changed.").
    /// A wrong current password counts as a failed attempt of the account (<see cref="CredentialThrottle"/>); past the
    /// limit the answer is <see cref="AuthResponses.TooManyAttempts"/>, and no password is hashed.
    /// </summary>
    public async Task<Result<Account>> ChangePasswordAsync(
        long userId, string? currentPassword, string? newPassword, IPAddress? address, CancellationToken cancellationToken)
    {
        if (await FindActiveUserAsync(userId, cancellationToken) is not { } user)
        {
            return AuthResponses.AccountGone;
        }

        var errors = new FieldErrors();
        var key = CredentialThrottle.AccountKey(user.Id);
        var attempt = throttle.TryAddress(address) is { Allowed: false } byAddress ? byAddress : await throttle.TryTakeAsync(key, address, cancellationToken);
        if (!attempt.Allowed)
        {
            LogThrottled("password change", user.Id);
            return AuthResponses.TooManyAttempts(attempt.RetryAfter);
        }

        if (string.IsNullOrEmpty(currentPassword) || currentPassword.Length > PasswordMaxLength || !await users.CheckPasswordAsync(user, currentPassword))
        {
            LogLoginFailed("wrong current password on password change", user.Id);
            errors.Add("current_password", "The current password is not correct.");
        }
        else
        {
            await throttle.ForgiveAsync(key, address, cancellationToken);
            await CheckPasswordAsync(newPassword, user.UserName, user.Email, "new_password", errors, cancellationToken);
            if (errors.Count == 0)
            {
                await SaveAsync(() => users.ChangePasswordAsync(user, currentPassword, newPassword!), errors, "new_password");
            }
        }

        return errors.Count > 0 ? Failure.Invalid(errors, "The password cannot be changed.") : Account.From(user);
    }

    /// <summary>One account, active or not, as admins see it.</summary>
    public async Task<Result<AdminUserDetails>> FindForAdminAsync(long id, CancellationToken cancellationToken)
    {
        var user = await users.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? Failure.NotFound($"User {id}") : await DetailsAsync(user, cancellationToken);
    }

    /// <summary>
    /// An admin changes an account's role and/or active state (null: kept), recorded in the audit log. Deactivating
    /// or demoting ends every session of the account at once, on every node. An admin cannot demote or deactivate
    /// themself, and the last active admin cannot be demoted or deactivated (409).
    /// </summary>
    public async Task<Result<AdminUserDetails>> UpdateByAdminAsync(long? actorId, long id, string? role, bool? isActive, CancellationToken cancellationToken)
    {
        var roleName = role?.Trim() switch
        {
            null => null,
            var r when r.Equals(Roles.Admin, StringComparison.OrdinalIgnoreCase) => Roles.Admin,
            var r when r.Equals(Roles.User, StringComparison.OrdinalIgnoreCase) => Roles.User,
            _ => "",
        };
        if (roleName == "")
        {
            return Failure.Invalid("role", "Use admin or user.");
        }

        bool endSessions;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var user = await users.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
            if (user is null)
            {
                return Failure.NotFound($"User {id}");
            }

            var before = UserAuditSnapshot.Of(user);
            var newRole = roleName ?? user.Role;
            var newActive = isActive ?? user.IsActive;
            var losesAdmin = user.Role == Roles.Admin && user.IsActive && (newRole != Roles.Admin || !newActive);
            if (losesAdmin && actorId == user.Id)
            {
                return new Failure(409, ProblemCodes.Conflict, "You cannot demote or deactivate your own account; ask another admin.");
            }

            if (losesAdmin && !await users.Users.AnyAsync(u => u.Role == Roles.Admin && u.IsActive && u.Id != id, cancellationToken))
            {
                return new Failure(409, ProblemCodes.Conflict, "This is the last active admin; make another account an admin first.");
            }

            endSessions = (user.IsActive && !newActive) || (user.Role == Roles.Admin && newRole != Roles.Admin);
            if (newRole == user.Role && newActive == user.IsActive)
            {
                return await DetailsAsync(user, cancellationToken);
            }

            user.Role = newRole;
            user.IsActive = newActive;
            var action = before.IsActive != newActive ? (newActive ? "user.reactivated" : "user.deactivated") : "user.role_changed";
            await audit.RecordAsync(actorId, action, "user", id.ToString(CultureInfo.InvariantCulture), before, UserAuditSnapshot.Of(user), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        if (endSessions)
        {
            await tokens.EndAllSessionsAsync(id, "account changed by an admin", cancellationToken);
        }

        LogChangedByAdmin(id, actorId);
        return await FindForAdminAsync(id, cancellationToken);
    }

    /// <summary>
    /// Clears what refuses the account's password checks: the throttle's counts under its id and under its user name
    /// and e-mail, and Identity's own lock-out; recorded in the audit log. The account may sign in at once.
    /// </summary>
    public async Task<Result<AdminUserDetails>> UnlockAsync(long? actorId, long id, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var user = await users.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Failure.NotFound($"User {id}");
        }

        var lockedUntil = await throttle.LockedUntilAsync(id, cancellationToken);
        var cleared = await throttle.ClearAsync(id, [user.UserName, user.Email], cancellationToken);
        user.LockoutEnd = null;
        user.AccessFailedCount = 0;
        await audit.RecordAsync(actorId, "user.unlocked", "user", id.ToString(CultureInfo.InvariantCulture),
            new UnlockAuditSnapshot(lockedUntil, cleared), new UnlockAuditSnapshot(null, 0), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return await DetailsAsync(user, cancellationToken);
    }

    private async Task<AdminUserDetails> DetailsAsync(User user, CancellationToken cancellationToken)
    {
        var throttled = await throttle.LockedUntilAsync(user.Id, cancellationToken);
        var identity = user.LockoutEnd is { } end && end > clock.GetUtcNow() ? end.UtcDateTime : (DateTime?)null;
        var lockedUntil = throttled is null ? identity : identity is null || throttled > identity ? throttled : identity;
        return new AdminUserDetails(user.Id, user.UserName, user.Email, user.Role, user.IsActive, user.CreatedAt, user.UpdatedAt, lockedUntil);
    }

    private sealed record UnlockAuditSnapshot(DateTime? LockedUntil, int ThrottleCounts);

    private Task<User?> FindActiveUserAsync(long id, CancellationToken cancellationToken) =>
        users.Users.SingleOrDefaultAsync(u => u.Id == id && u.IsActive, cancellationToken);

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
        if (InputText.HasHiddenCharacters(email))
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
        if (InputText.HasHiddenCharacters(name))
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

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} registered with role {Role}")]
    private partial void LogRegistered(long userId, string role);

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {UserId} changed by admin {AdminId}")]
    private partial void LogChangedByAdmin(long userId, long? adminId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Login succeeded for user {UserId}")]
    private partial void LogLoggedIn(long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Password attempt refused before checking: too many attempts by {Limit} (user {UserId})")]
    private partial void LogThrottled(string limit, long? userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login failed ({Reason}) for user {UserId}")]
    private partial void LogLoginFailed(string reason, long? userId);
}
