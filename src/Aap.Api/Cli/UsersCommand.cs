using System.CommandLine;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Security;

namespace Aap.Api.Cli;

/// <summary><c>aap users create-admin</c> and <c>aap users list</c>.</summary>
internal static class UsersCommand
{
    public static Command Create(IServiceProvider services, TextReader? input = null)
    {
        var userName = new Option<string>("--username") { Description = "The admin's username.", Required = true };
        var email = new Option<string?>("--email") { Description = "The admin's email address." };
        var createAdmin = new Command("create-admin",
            "Create an admin. The password is never taken from the command line: on a terminal it is asked for twice, without echo; " +
            "otherwise one line is read from standard input (echo \"$PASSWORD\" | aap users create-admin --username ops).")
        {
            userName,
            email,
        };
        createAdmin.SetAction(async (parse, cancellationToken) =>
        {
            var password = input is not null || Console.IsInputRedirected
                ? (input ?? Console.In).ReadLine()
                : PromptTwice(parse.InvocationConfiguration.Error);
            if (password is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: password: the two entries differ; nothing was created.");
                return 1;
            }

            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<Platform.Persistence.Migrations.DatabaseMigrator>().MigrateAsync(cancellationToken);
            var created = await scope.ServiceProvider.GetRequiredService<AccountService>()
                .RegisterAsync(parse.GetValue(email), parse.GetRequiredValue(userName), password, Roles.Admin, cancellationToken);
            if (!created.Succeeded)
            {
                foreach (var (field, messages) in created.Failure.Errors ?? [])
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {field}: {string.Join(" ", messages)}");
                }

                return 1;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"Created admin {created.Value.UserName} (id {created.Value.Id}).");
            return 0;
        });

        var list = new Command("list", "List accounts: id, role, state, username, email.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            await using var scope = services.CreateAsyncScope();
            var users = await scope.ServiceProvider.GetRequiredService<AccountService>().ListAsync(cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"{"id",-8} {"role",-6} {"state",-8} {"username",-30} email");
            foreach (var u in users)
            {
                await output.WriteLineAsync($"{u.Id,-8} {u.Role,-6} {(u.IsActive ? "active" : "inactive"),-8} {u.UserName ?? "",-30} {u.Email ?? ""}");
            }

            return 0;
        });

        return new Command("users", "Manage accounts.") { createAdmin, list };
    }

    /// <summary>Asks for the password on the terminal without echoing it, then once more; null when the two differ.</summary>
    private static string? PromptTwice(TextWriter prompt)
    {
        var first = ReadHidden(prompt, "Password: ");
        var second = ReadHidden(prompt, "Password (again): ");
        return first == second ? first : null;
    }

    private static string ReadHidden(TextWriter prompt, string label)
    {
        prompt.Write(label);
        prompt.Flush();
        var typed = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        prompt.WriteLine();
        return typed.ToString();
    }
}
