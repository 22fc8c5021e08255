using Aap.Api.Platform.Audit;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Identity;

/// <summary>The name an account is shown under in the audit log: its user name, else its e-mail.</summary>
internal sealed class AuditActorNames(Platform.Persistence.AppDbContext db) : IAuditActorNames
{
    public async Task<string?> NameOfAsync(long actorId, CancellationToken cancellationToken) =>
        await db.Set<User>().AsNoTracking().Where(u => u.Id == actorId).Select(u => u.UserName ?? u.Email).SingleOrDefaultAsync(cancellationToken);
}
