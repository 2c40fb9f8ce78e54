using System.Text.Json;
using ChatBot.Adapters.Slack;
using ChatBot.Adapters.Slack.Events;
using ChatBot.TestSupport;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The Slack app manifest: within Slack's schema limits, and asking for what the adapter uses.</summary>
public sealed class SlackManifestTests
{
    private static readonly string ManifestPath = Path.Combine(RepositoryPaths.Root, "appPackage", "slack", "manifest.yaml");

    [Fact]
    public async Task Manifest_IsWithinSlacksLimits_AndPointsAtOurEndpoints()
    {
        var (errors, manifest) = await NodeScripts.SlackManifestAsync(ManifestPath);

        Assert.Empty(errors);
        var features = manifest.GetProperty("features");
        var commands = features.GetProperty("slash_commands").EnumerateArray().ToDictionary(c => c.GetProperty("command").GetString()!, c => c.GetProperty("url").GetString()!);
        Assert.Equal([SlackInteractions.AskCommand, SlackInteractions.ChatBotCommand], commands.Keys);
        Assert.All(commands.Values, url => Assert.EndsWith(SlackEndpoints.CommandsPath, url, StringComparison.Ordinal));
        Assert.Equal(SlackInteractions.AskAboutShortcut, features.GetProperty("shortcuts")[0].GetProperty("callback_id").GetString());
        var settings = manifest.GetProperty("settings");
        Assert.EndsWith(SlackEndpoints.EventsPath, settings.GetProperty("event_subscriptions").GetProperty("request_url").GetString(), StringComparison.Ordinal);
        Assert.EndsWith(SlackEndpoints.InteractivityPath, settings.GetProperty("interactivity").GetProperty("request_url").GetString(), StringComparison.Ordinal);
        Assert.True(settings.GetProperty("org_deploy_enabled").GetBoolean());
        Assert.True(features.TryGetProperty("agent_view", out _), "new Slack apps use the agent messaging experience");
    }

    [Fact]
    public async Task Manifest_AsksForEveryScopeAndEventTheAdapterUses()
    {
        var (_, manifest) = await NodeScripts.SlackManifestAsync(ManifestPath);

        var scopes = Strings(manifest.GetProperty("oauth_config").GetProperty("scopes").GetProperty("bot"));
        var events = Strings(manifest.GetProperty("settings").GetProperty("event_subscriptions").GetProperty("bot_events"));

        // chat.* and streaming, assistant.threads.setStatus, users.info with emails, slash commands, reading the messages it answers.
        Assert.Superset(new HashSet<string> { "chat:write", "assistant:write", "users:read", "users:read.email", "commands", "app_mentions:read", "im:history", "channels:history", "groups:history", "mpim:history" }, scopes);
        Assert.Superset(new HashSet<string> { "app_mention", "message.im", "message.channels", "message.groups", "message.mpim", "member_joined_channel", "app_context_changed" }, events);
        // The OAuth install asks for exactly the manifest's scopes; reactions and thread context need theirs.
        Assert.Equal(scopes.Order(StringComparer.Ordinal), ChatBot.Adapters.Slack.Installs.SlackOAuth.BotScopes.Order(StringComparer.Ordinal));
        Assert.Superset(new HashSet<string> { "reactions:write", "channels:read" }, scopes);
        Assert.EndsWith(ChatBot.Adapters.Slack.Installs.SlackOAuth.CallbackPath, manifest.GetProperty("oauth_config").GetProperty("redirect_urls")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketModeManifest_IsTheSameAppWithoutRequestUrls()
    {
        var (errors, manifest) = await NodeScripts.SlackManifestAsync(Path.Combine(RepositoryPaths.Root, "appPackage", "slack", "manifest.socket-mode.yaml"));
        var (_, http) = await NodeScripts.SlackManifestAsync(ManifestPath);

        Assert.Empty(errors);
        Assert.True(manifest.GetProperty("settings").GetProperty("socket_mode_enabled").GetBoolean());
        Assert.DoesNotContain("https://", manifest.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(
            Strings(http.GetProperty("oauth_config").GetProperty("scopes").GetProperty("bot")),
            Strings(manifest.GetProperty("oauth_config").GetProperty("scopes").GetProperty("bot")));
        Assert.Equal(
            Strings(http.GetProperty("settings").GetProperty("event_subscriptions").GetProperty("bot_events")),
            Strings(manifest.GetProperty("settings").GetProperty("event_subscriptions").GetProperty("bot_events")));
    }

    private static HashSet<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
