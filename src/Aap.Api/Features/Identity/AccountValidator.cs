using Microsoft.AspNetCore.Identity;

namespace Aap.Api.Features.Identity;

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
