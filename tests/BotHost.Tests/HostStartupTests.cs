using System.Net;
using ChatBot.BotHost.Hosting;
using ChatBot.ChatData.Database;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Tests;

public sealed class HostStartupTests
{
    [Fact]
    public async Task Host_NoConfiguration_MigratesSqliteAndAnswersHealthz()
    {
        using var app = new ChatBotAppFactory();
        using var client = app.CreateClient();

        var live = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
        var ready = await client.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(File.Exists(app.DatabasePath));
        await using var db = app.Db();
        Assert.IsType<SqliteChatDbContext>(db);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Readyz_SaysWhetherTheModelEndpointAnswers_WithoutTakingTheHostOutOfRotation()
    {
        await using var model = await ChatBot.TestSupport.Fakes.FakeOpenAiServer.StartAsync();
        using var up = new ChatBotAppFactory().WithModels(model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m));
        using var down = new ChatBotAppFactory().WithModels($"http://127.0.0.1:{LoopbackPorts.Free()}/v1", ("gpt-4o-mini", 0.15m, 0.6m));

        using var reachable = await up.CreateClient().GetAsync(new Uri("/readyz", UriKind.Relative));
        using var unreachable = await down.CreateClient().GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, reachable.StatusCode);
        Assert.Equal("Healthy", await reachable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, unreachable.StatusCode); // still serving: answers say the model is unavailable
        Assert.Equal("Degraded", await unreachable.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Host_PostgresWithAutoMigrate_MigratesTheServerDatabaseAtStart()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        using var app = new ChatBotAppFactory()
            .WithPostgres(database);
        using var client = app.CreateClient();

        var ready = await client.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await using var db = app.Db();
        Assert.IsType<PostgresChatDbContext>(db);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(3, await db.RoleQuotas.CountAsync());
    }

    [Theory]
    [InlineData("Slack:BotToken", "xoxb-1", "Slack:SigningSecret")]
    [InlineData("Teams:AppId", "00000000-0000-0000-0000-000000000001", "Teams:AppPassword")]
    [InlineData("Database:Provider", "Postgres", "ConnectionStrings:ChatBot")]
    [InlineData("Graph:ClientId", "client", "Graph:TenantId")]
    [InlineData("Admin:BootstrapPassword", "short", "Admin:BootstrapPassword")]
    public async Task Host_MissingOrInvalidKey_FailsStartupValidationNamingTheKey(string key, string value, string named)
    {
        // The composition root as Program builds it; the real process prints this as one line (EndToEnd tests).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        builder.AddChatBotHost();
        await using var app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
