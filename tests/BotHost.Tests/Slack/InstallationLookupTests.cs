using ChatBot.Adapters.Turns;
using ChatBot.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Slack;

/// <summary>One lookup for several keys (the assistant pane's context per thread, else per DM): the first key wins.</summary>
public sealed class InstallationLookupTests
{
    [Fact]
    public async Task FindFirst_ReturnsTheFirstKeyThatHasAnActiveInstallation_InTheOrderGiven()
    {
        using var app = new ChatBotAppFactory();
        _ = app.Server;
        var installations = app.Services.GetRequiredService<IChannelInstallations>();
        await installations.InstalledAsync(Installation("dm-key", "C-dm"), CancellationToken.None);
        await installations.InstalledAsync(Installation("thread-key", "C-thread"), CancellationToken.None);
        await installations.InstalledAsync(Installation("removed-key", "C-removed"), CancellationToken.None);
        await installations.RemovedAsync(ChannelKind.Slack, "T1", "removed-key", CancellationToken.None);

        Assert.Equal("C-thread", (await installations.FindFirstAsync(ChannelKind.Slack, "T1", ["thread-key", "dm-key"], CancellationToken.None))?.Address["context"]);
        Assert.Equal("C-dm", (await installations.FindFirstAsync(ChannelKind.Slack, "T1", ["dm-key", "thread-key"], CancellationToken.None))?.Address["context"]);
        Assert.Equal("C-dm", (await installations.FindFirstAsync(ChannelKind.Slack, "T1", ["unknown", "removed-key", "dm-key"], CancellationToken.None))?.Address["context"]);
        Assert.Null(await installations.FindFirstAsync(ChannelKind.Slack, "T1", ["unknown", "removed-key"], CancellationToken.None));
        Assert.Null(await installations.FindFirstAsync(ChannelKind.Slack, "T2", ["thread-key"], CancellationToken.None)); // another workspace
        Assert.Null(await installations.FindFirstAsync(ChannelKind.Teams, "T1", ["thread-key"], CancellationToken.None));
    }

    private static ChannelInstallation Installation(string key, string context) =>
        new(ChannelKind.Slack, "T1", key, ConversationType.Personal, new Dictionary<string, string> { ["context"] = context });
}
