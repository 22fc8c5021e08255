using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Web.Admin;

/// <summary>The review queue's main flow on PostgreSQL.</summary>
public sealed class ReviewQueuePostgresTests
{
    [Fact]
    public async Task On_postgres_an_admin_approves_and_rejects_in_the_review_queue()
    {
        await using var factory = PagesFactory.ForPages(new PostgresFactory());
        await factory.InitializeAsync();
        await ReviewQueuePagesTests.ApproveAndRejectAsync(factory);
    }
}
