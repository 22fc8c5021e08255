using Aap.Api.Features.Identity.Jobs;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.RateLimiting;
using System.Security.Cryptography;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Identity;

/// <summary>
/// Accounts and sessions: their services, the authentication scheme, the admin policy and the auth rate limit
/// (<see cref="AddIdentityFeature"/>), the middleware (<see cref="UseIdentityFeature"/>) and the product API's
/// <c>/api/v1/auth</c> and <c>/api/v1/me</c> (<see cref="MapIdentityFeature"/>). The seed dialects' auth routes
/// are in <c>Dialects/</c>; the runtime-settings routes are the platform's.
/// </summary>
internal static partial class IdentityFeature
{
    public static WebApplicationBuilder AddIdentityFeature(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<BootstrapAdminOptions>().BindConfiguration(BootstrapAdminOptions.SectionName);
        var auth = builder.Configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();

        // Identity's user validator insists on a user name; AAP's accepts an e-mail or a user name.
        services.AddScoped<IUserValidator<User>, AccountValidator>();
        services.AddIdentityCore<User>(identity =>
            {
                identity.User.RequireUniqueEmail = false;
                identity.User.AllowedUserNameCharacters = "";
                identity.Password.RequiredLength = AccountService.PasswordMinLength;
                identity.Password.RequireDigit = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Password.RequiredUniqueChars = 1;
                // Identity's lock-out is per account: anyone could lock anyone out. CredentialThrottle replaces it.
                identity.Lockout.AllowedForNewUsers = false;
            })
            .AddEntityFrameworkStores<Platform.Persistence.AppDbContext>();
        // OWASP (2023): PBKDF2-HMAC-SHA512 with 210,000 iterations. Older hashes are upgraded at the next login.
        services.Configure<PasswordHasherOptions>(hasher => hasher.IterationCount = 210_000);

        services.AddSingleton<SigningKeys>();
        services.AddSingleton<IdentityMetrics>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<ProfileCache>();
        services.AddSingleton<EndedSessions>();
        services.AddSingleton<EndedSessionsSync>();
        services.AddSingleton<Platform.Persistence.IDatabaseChannel>(sp => sp.GetRequiredService<EndedSessionsSync>());
        services.AddHostedService(sp => sp.GetRequiredService<EndedSessionsSync>());
        services.AddSingleton<AddressAttemptLimiter>();
        services.AddScoped<CredentialThrottle>();
        services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor, ProfileCacheInvalidator>();
        services.AddSingleton<Platform.Persistence.IDatabaseChannel, ProfileChanges>();
        services.AddScoped<TokenService>();
        services.AddScoped<AccountService>();
        services.AddScoped<Platform.Audit.IAuditActorNames, AuditActorNames>();
        services.AddSingleton(AuthSettings.AccessTokenLifetimeSeconds);
        services.AddSingleton(AuthSettings.RefreshTokenLifetimeDays);
        services.AddSingleton(AuthSettings.RefreshFamilyMaxDays);
        services.AddSingleton(AuthSettings.RefuseCommonPasswords);

        services.AddAuthentication(AapAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AapAuthenticationHandler>(AapAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, policy => policy.RequireRole(Roles.Admin));

        // Sign-in, registration and refresh: each family a bucket of its own per client address, counted with the
        // caller's general limit (and shared through Redis when it is configured).
        foreach (var family in AuthRateLimit.Families)
        {
            services.AddEndpointRateLimit(new EndpointRateLimit(family, auth.RateLimitPermits, auth.RateLimitWindowSeconds, "Too many attempts from this address"));
        }

        builder.AddRecurringJob<PurgeRefreshTokensJob>(PurgeRefreshTokensJob.Name,
            "Daily 03:10: delete refresh tokens expired or revoked more than Jobs:Maintenance:RefreshTokenRetentionDays ago.", "0 10 3 * * ?");
        return builder;
    }

    /// <summary>Maps the product API of accounts and sessions: <c>/api/v1/auth/*</c> and <c>/api/v1/me</c>.</summary>
    public static IEndpointRouteBuilder MapIdentityFeature(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapIdentityEndpoints().MapAdminUserEndpoints();

    /// <summary>The key by which <see cref="WebApplication"/> learns that the pipeline authenticates (ASP.NET Core's own).</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    public static WebApplication UseIdentityFeature(this WebApplication app)
    {
        // Authentication runs for the requests that present a credential; for the others (the status, health checks,
        // the catalog, pages read anonymously) its answer would be "no result", for the price of a handler built and
        // run. A token validated before is taken without the framework's middleware; routes that need a caller still
        // challenge through the handler.
        app.UseMiddleware<KnownTokenAuthentication>();
        // Without this mark (ASP.NET Core's UseAuthentication sets it), WebApplication would add its authentication
        // middleware for every request at the front of the pipeline.
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
        app.UseMiddleware<CrossSiteCookieGuard>();
        app.UseAapRateLimiting();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Creates the configured first admin when no user has that name. Never with a built-in password. Then, when
    /// <c>Auth:DevelopmentAdmin</c> is on (by default only in Development) and no admin exists at all, creates
    /// <c>admin</c> with a random password and prints its credentials once, when the server is listening.
    /// </summary>
    public static async Task EnsureBootstrapAdminAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        await EnsureConfiguredAdminAsync(app, cancellationToken);
        if (app.Configuration.GetValue<bool?>(BootstrapAdminOptions.DevelopmentAdminKey) ?? app.Environment.IsDevelopment())
        {
            await EnsureDevelopmentAdminAsync(app, cancellationToken);
        }
    }

    private static async Task EnsureConfiguredAdminAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var admin = app.Services.GetRequiredService<IOptions<BootstrapAdminOptions>>().Value;
        if (string.IsNullOrWhiteSpace(admin.UserName) || string.IsNullOrEmpty(admin.Password))
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        if (await users.FindByNameAsync(admin.UserName.Trim()) is not null)
        {
            return;
        }

        var created = await scope.ServiceProvider.GetRequiredService<AccountService>()
            .RegisterAsync(admin.Email, admin.UserName, admin.Password, Roles.Admin, cancellationToken);
        if (!created.Succeeded)
        {
            // Nodes started together race here: the unique index lets one create the admin, and the others are done.
            await using var check = app.Services.CreateAsyncScope();
            if (await check.ServiceProvider.GetRequiredService<UserManager<User>>().FindByNameAsync(admin.UserName.Trim()) is not null)
            {
                return;
            }

            throw new OptionsValidationException(BootstrapAdminOptions.SectionName, typeof(BootstrapAdminOptions),
                (created.Failure.Errors ?? new FieldErrors()).Select(e => $"Bootstrap:Admin:{(e.Key == "username" ? "UserName" : e.Key == "email" ? "Email" : "Password")}: {string.Join(" ", e.Value)}"));
        }
    }

    private static async Task EnsureDevelopmentAdminAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        if (await users.Users.AnyAsync(u => u.Role == Roles.Admin, cancellationToken))
        {
            return;
        }

        // 24 characters from 57 (no look-alikes such as l, 1, O, 0): about 140 bits, never a common password.
        var password = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 24);
        var created = await scope.ServiceProvider.GetRequiredService<AccountService>()
            .RegisterAsync(null, BootstrapAdminOptions.DevelopmentAdminName, password, Roles.Admin, cancellationToken);
        if (!created.Succeeded)
        {
            // A user already named admin (not an admin), or another node won the race: nothing to print.
            LogDevelopmentAdminNotCreated(app.Logger, string.Join(" ", (created.Failure.Errors ?? new FieldErrors()).SelectMany(e => e.Value)));
            return;
        }

        LogDevelopmentAdminCreated(app.Logger, BootstrapAdminOptions.DevelopmentAdminName);
        // Printed once the server listens, so the block names the address it really serves on; the password is
        // written to the terminal only, never to the log.
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var address = app.Urls.FirstOrDefault()?.TrimEnd('/') ?? "http://localhost:5000";
            Console.Out.Write(
                $$"""

                A development admin was created (shown once; not again while an admin exists):
                  Sign in:   {{address}}/account/sign-in in a browser, then the admin panel at {{address}}/admin
                  Log in:    POST {{address}}/api/v1/auth/login {"username": "{{BootstrapAdminOptions.DevelopmentAdminName}}", "password": "..."}, or Authorize on {{address}}/docs
                  Username:  {{BootstrapAdminOptions.DevelopmentAdminName}}
                  Password:  {{password}}
                  Change it: POST {{address}}/api/v1/me/password {"current_password": "...", "new_password": "..."}
                  (Auth__DevelopmentAdmin=false turns this off.)


                """);
            Console.Out.Flush();
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created the development admin {UserName}; its password is printed on standard output once.")]
    private static partial void LogDevelopmentAdminCreated(ILogger logger, string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No development admin was created: {Reason}")]
    private static partial void LogDevelopmentAdminNotCreated(ILogger logger, string reason);
}
