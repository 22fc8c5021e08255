using System.Net;
using System.Net.Http.Json;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>
/// Completions while <c>rewards.require_review</c> is on. Turning it on changes the host for every later test, so
/// these tests have a host of their own per class and never turn it off again.
/// </summary>
public abstract class CompletionReviewTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_review_required_points_wait_for_approval_and_approving_twice_credits_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync(points: 25);
        await SetRequireReviewAsync(admin, 1);

        using var complete = await user.CompleteAsync(app, Screenshot());
        var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        (await complete.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("pending");
        (await user.BalanceAsync()).ShouldBe(0);
        using var queue = await admin.GetAsync("/api/v1/admin/completions?status=pending&size=100", Ct);
        (await queue.JsonAsync()).GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).ShouldContain(id);
        using var badStatus = await admin.GetAsync("/api/v1/admin/completions?status=Waiting", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(badStatus, HttpStatusCode.BadRequest, "validation_failed"), "status").ShouldNotBeEmpty();

        var approvals = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);
            return response.StatusCode;
        }));

        approvals.ShouldAllBe(s => s == HttpStatusCode.OK);
        (await user.BalanceAsync()).ShouldBe(25);
        await factory.AssertLedgerMatchesBalancesAsync();
        using var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = "too late" }, Ct);
        await Problem.ReadAsync(reject, HttpStatusCode.Conflict, "already_reviewed");
    }

    [Fact]
    public async Task A_rejected_completion_credits_nothing_and_needs_a_reason()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync();
        await SetRequireReviewAsync(admin, 1);

        using var complete = await user.CompleteAsync(app, Screenshot());
        var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        using var noReason = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = " " }, Ct);
        using var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = "Screenshot shows another app" }, Ct);
        using var approve = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);

        Problem.FieldErrors(await Problem.ReadAsync(noReason, HttpStatusCode.BadRequest, "validation_failed"), "reason").ShouldNotBeEmpty();
        (await reject.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("rejected");
        await Problem.ReadAsync(approve, HttpStatusCode.Conflict, "already_reviewed");
        (await user.BalanceAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Approvals_and_rejections_are_audited_once_with_the_reviewer()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        await SetRequireReviewAsync(admin, 1);
        using var first = await user.CompleteAsync(await factory.AddAppAsync(points: 15), Screenshot());
        var approved = (await first.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        using var second = await user.CompleteAsync(await factory.AddAppAsync(), Screenshot());
        var rejected = (await second.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        for (var i = 0; i < 2; i++)
        {
            using var approve = await admin.PostAsync($"/api/v1/admin/completions/{approved}/approve", null, Ct);
            approve.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{rejected}/reject", new { reason = "Wrong app" }, Ct))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var again = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{rejected}/reject", new { reason = "Twice" }, Ct))
        {
            await Problem.ReadAsync(again, HttpStatusCode.Conflict, "already_reviewed");
        }

        var approvals = await Audit.AuditLogTests.ListAsync(admin, $"entity_type=completion&entity_id={approved}");
        approvals.Select(r => r.GetProperty("action").GetString()).ShouldBe(["completion.approved"], "approving twice is recorded once");
        approvals[0].GetProperty("actor_id").GetInt64().ShouldBe(adminAccount.Id);
        approvals[0].GetProperty("before").GetProperty("status").GetString().ShouldBe("pending");
        approvals[0].GetProperty("after").GetProperty("status").GetString().ShouldBe("approved");
        approvals[0].GetProperty("after").GetProperty("points").GetInt32().ShouldBe(15);
        var rejections = await Audit.AuditLogTests.ListAsync(admin, $"entity_type=completion&entity_id={rejected}");
        rejections.Select(r => r.GetProperty("action").GetString()).ShouldBe(["completion.rejected"]);
        rejections[0].GetProperty("after").GetProperty("review_reason").GetString().ShouldBe("Wrong app");
    }

    private static async Task SetRequireReviewAsync(HttpClient admin, int value)
    {
        using var response = await admin.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    public sealed class OnSqlite(SqliteFactory factory) : CompletionReviewTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CompletionReviewTests(factory), IClassFixture<PostgresFactory>;
}
