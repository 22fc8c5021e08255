using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Identity.IdentityTablesConfiguration))]

namespace Aap.Api.Features.Identity;

/// <summary>The tables of Identity's external logins, claims and tokens (kept for Identity's stores; unused so far).</summary>
internal sealed class IdentityTablesConfiguration :
    IEntityTypeConfiguration<IdentityUserClaim<long>>, IEntityTypeConfiguration<IdentityUserLogin<long>>, IEntityTypeConfiguration<IdentityUserToken<long>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<long>> claim)
    {
        claim.ToTable("user_claims");
        claim.HasKey(c => c.Id);
    }

    public void Configure(EntityTypeBuilder<IdentityUserLogin<long>> login)
    {
        login.ToTable("user_logins");
        login.HasKey(l => new { l.LoginProvider, l.ProviderKey });
    }

    public void Configure(EntityTypeBuilder<IdentityUserToken<long>> token)
    {
        token.ToTable("user_tokens");
        token.HasKey(t => new { t.UserId, t.LoginProvider, t.Name });
    }
}
