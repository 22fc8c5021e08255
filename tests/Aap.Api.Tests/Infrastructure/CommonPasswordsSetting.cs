using Aap.Api.Features.Identity;
using Aap.Api.Platform.Settings;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Switches <c>auth.refuse_common_passwords</c> for tests that replay a seed's walkthrough with its literal example password.</summary>
public static class CommonPasswordsSetting
{
    /// <summary>
    /// Accepts common passwords until the returned scope is disposed, then refuses them again, so that the other
    /// tests of the class (which share the factory and its database) see the default.
    /// </summary>
    public static async Task<IAsyncDisposable> AllowCommonPasswordsAsync(this AapFactory factory)
    {
        await SetAsync(factory, 0);
        return new Restore(factory);
    }

    private static async Task SetAsync(AapFactory factory, int value)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RuntimeSettings>().SetAsync(AuthSettings.RefuseCommonPasswords, value, null, CancellationToken.None);
    }

    private sealed class Restore(AapFactory factory) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await SetAsync(factory, 1);
    }
}
