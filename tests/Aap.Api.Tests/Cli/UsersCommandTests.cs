using System.CommandLine;
using Aap.Api.Cli;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Cli;

public sealed class UsersCommandTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    [Fact]
    public async Task Create_admin_reads_the_password_from_standard_input_and_creates_an_admin()
    {
        var name = $"ops_{Guid.NewGuid():N}"[..14];

        var (exitCode, output, error) = await RunAsync(Accounts.Password + "\n", "create-admin", "--username", name, "--email", $"{name}@example.test");

        error.ShouldBeEmpty();
        exitCode.ShouldBe(0);
        output.ShouldContain($"Created admin {name}");
        var user = await factory.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.UserName == name));
        user.Role.ShouldBe(Roles.Admin);
        (await factory.LoginAsync(new TestAccount(user.Id, name, null, Accounts.Password))).AccessToken.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Create_admin_is_audited_as_the_command_line()
    {
        var name = $"ops_{Guid.NewGuid():N}"[..14];

        var (exitCode, _, _) = await RunAsync(Accounts.Password + "\n", "create-admin", "--username", name);

        exitCode.ShouldBe(0);
        var id = await factory.DbAsync(db => db.Set<User>().Where(u => u.UserName == name).Select(u => u.Id).SingleAsync());
        var key = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var record = await factory.DbAsync(db => db.Set<Aap.Api.Platform.Audit.AuditEntry>().AsNoTracking().SingleAsync(e => e.EntityType == "user" && e.EntityId == key));
        (record.Action, record.ActorId, record.ActorName, record.BeforeJson).ShouldBe(("user.created", (long?)null, "cli", (string?)null));
        record.AfterJson!.ShouldContain($"\"username\":\"{name}\"");
        record.AfterJson!.ShouldNotContain("password", Case.Insensitive);
    }

    [Fact]
    public async Task Create_admin_with_a_weak_password_fails_with_one_line_per_problem()
    {
        var (exitCode, output, error) = await RunAsync("short\n", "create-admin", "--username", $"weak_{Guid.NewGuid():N}"[..14]);

        exitCode.ShouldBe(1);
        output.ShouldBeEmpty();
        error.ShouldStartWith("error: password:");
    }

    [Fact]
    public async Task Create_admin_with_a_common_password_fails_saying_why_and_creates_nobody()
    {
        var name = $"ops_{Guid.NewGuid():N}"[..14];

        var (exitCode, output, error) = await RunAsync("securepassword\n", "create-admin", "--username", name);

        exitCode.ShouldBe(1);
        output.ShouldBeEmpty();
        error.ShouldStartWith($"error: password: {CommonPasswords.Explanation}");
        (await factory.DbAsync(db => db.Set<User>().AnyAsync(u => u.UserName == name))).ShouldBeFalse();
    }

    [Fact]
    public async Task List_shows_every_account_with_its_role()
    {
        var account = await factory.RegisterAsync();

        var (exitCode, output, _) = await RunAsync("", "list");

        exitCode.ShouldBe(0);
        output.Split('\n').ShouldContain(line => line.StartsWith($"{account.Id} ", StringComparison.Ordinal) && line.Contains("User") && line.Contains(account.UserName!));
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string input, params string[] args)
    {
        var root = new RootCommand { UsersCommand.Create(factory.Services, new StringReader(input)) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await root.Parse(["users", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString(), error.ToString());
    }
}
