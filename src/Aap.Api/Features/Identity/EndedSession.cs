using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Identity.EndedSessionConfiguration))]

namespace Aap.Api.Features.Identity;

/// <summary>
/// A session that was ended (logout, logout everywhere, password change, refresh-token reuse): either one session,
/// by its id (the refresh-token family, the <c>sid</c> of its access tokens), or every session of a user that began
/// before <see cref="EndedAt"/>. Rows are kept as long as an access token can live; every node reads them.
/// </summary>
internal sealed class EndedSession
{
    public long Id { get; set; }

    public Guid? SessionId { get; set; }

    public long? UserId { get; set; }

    public DateTime EndedAt { get; set; }

    public required string Reason { get; set; }
}

internal sealed class EndedSessionConfiguration : IEntityTypeConfiguration<EndedSession>
{
    public void Configure(EntityTypeBuilder<EndedSession> session)
    {
        session.ToTable("ended_sessions");
        session.Property(s => s.Reason).HasMaxLength(50);
        session.HasIndex(s => s.EndedAt);
    }
}
