using Aap.Api.Cli;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Status;
using Aap.Api.Platform;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Persistence;

DotEnvFile.Load(Path.Combine(Directory.GetCurrentDirectory(), ".env"));

var builder = WebApplication.CreateBuilder(args);

builder.AddPlatform();
builder.Services.AddAppsFeature();

var app = builder.Build();

app.UsePlatform();
app.MapStatusEndpoints();
app.MapAppsEndpoints();

if (AapCli.IsCommand(args))
{
    return await AapCli.RunAsync(app, args);
}

await app.PrepareDatabaseAsync();
await app.RunAsync();
return 0;

/// <summary>The entry point; visible to tests so that they can host the application.</summary>
public partial class Program;
