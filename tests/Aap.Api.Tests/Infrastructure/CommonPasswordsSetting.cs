using Aap.Api.Features.Identity;
using Aap.Api.Platform.Settings;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Switches <c>auth.refuse_common_passwords</c> for tests that replay a seed's walkthrough with its literal example password.</summary>
public static class CommonPasswordsSetting
{
    /// <summary>
    /// Accepts common passwords on this host from now on. The setting is shared by every test of the host, so only a
    /// test class with a host of its own (see <c>SeedWalkthroughTests</c>) calls this, and nothing turns it back.
    /// </summary>
    public static async Task AllowCommonPasswordsAsync(this AapFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RuntimeSettings>().SetAsync(AuthSettings.RefuseCommonPasswords, 0, null, CancellationToken.None);
    }
}
