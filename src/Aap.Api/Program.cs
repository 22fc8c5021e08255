using Aap.Api.Cli;
using Aap.Api.Dialects;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Imports;
using Aap.Api.Features.Isins;
using Aap.Api.Features.Rewards;
using Aap.Api.Features.Todos;
using Aap.Api.Platform;
using Aap.Api.Platform.Caching;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Observability;
using Aap.Api.Platform.Persistence;
using Aap.Api.Web;

if (HealthCommand.Handles(args))
{
    // A container's health check: no host, no settings, no database, just one request to the running service.
    return await HealthCommand.RunAsync(args);
}

DotEnvFile.Load(Path.Combine(Directory.GetCurrentDirectory(), ".env"));

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppFolder.ContentRoot(args) });
// What the services are built for: a command of the CLI, or serving (the JSON console is written differently).
((IHostApplicationBuilder)builder).Properties[LoggingSetup.RunsCommandKey] = AapCli.IsCommand(args);

builder.AddPlatform();
builder.AddIdentityFeature();
builder.AddTodosFeature();
builder.AddFilesFeature();
builder.AddAppsFeature();
builder.AddRewardsFeature();
builder.AddIsinsFeature();
builder.AddImportsFeature();
builder.AddWebFront();

var app = builder.Build();

if (AapCli.IsCommand(args))
{
    // A command uses the services, never the request pipeline or the routes: building those (every endpoint, the
    // pages, the static assets' manifest) was a third of a small import's CPU time.
    // Disposing the application is what flushes the log sinks before the command's process exits.
    await using (app)
    {
        return await AapCli.RunAsync(app, args);
    }
}

app.UsePlatform();
app.UseWebFront();
app.UseIdentityFeature();
app.UseSharedOutputCache();
var routes = app.MapPlatformRoutes();
routes.MapIdentityFeature();
routes.MapTodosFeature();
routes.MapFilesFeature();
routes.MapAppsFeature();
routes.MapRewardsFeature();
routes.MapIsinsFeature();
routes.MapImportsFeature();
routes.MapSeedDialects();
app.MapWebFront();

return await app.ServeAsync(async () =>
{
    await app.PrepareDatabaseAsync();
    await app.EnsureBootstrapAdminAsync();
    await app.PrepareStorageAsync();
});

/// <summary>The entry point; visible to tests so that they can host the application.</summary>
public partial class Program;
