using ChatBot.Adapters;
using ChatBot.Adapters.Slack;
using ChatBot.Adapters.Teams;

namespace ChatBot.Adapters.Tests;

public sealed class ChannelOptionsTests
{
    [Fact]
    public void Slack_NotConfigured_IsValidAndDisabled()
    {
        var options = new SlackOptions();

        Assert.False(options.Enabled);
        Assert.True(new SlackOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Slack_BotTokenWithoutSigningSecret_FailsNamingTheKey()
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = "xoxb-1" });

        Assert.True(result.Failed);
        Assert.Contains("Slack:SigningSecret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Slack_OAuthOnly_IsEnabledAndNeedsTheSigningSecret()
    {
        var options = new SlackOptions { ClientId = "1.2", ClientSecret = "secret" };
        var result = new SlackOptionsValidator().Validate(null, options);

        Assert.True(options.Enabled);
        Assert.Contains("Slack:SigningSecret", result.FailureMessage, StringComparison.Ordinal);
        options.SigningSecret = "s";
        Assert.True(new SlackOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Slack_ClientIdWithoutSecret_FailsNamingBoth()
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = "xoxb-1", SigningSecret = "s", ClientId = "1.2" });

        Assert.Contains("Slack:ClientId and Slack:ClientSecret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Slack_PlainHttpRedirectUrl_Fails()
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = "xoxb-1", SigningSecret = "s", OAuthRedirectUrl = "http://chatbot.example.com/api/slack/oauth/callback" });

        Assert.Contains("Slack:OAuthRedirectUrl", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xoxp-user-token", "Slack:BotToken")]
    public void Slack_WrongTokenKind_Fails(string token, string key)
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = token, SigningSecret = "s" });

        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Slack_AppTokenOfWrongKind_Fails()
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = "xoxb-1", SigningSecret = "s", AppToken = "xoxb-2" });

        Assert.Contains("Slack:AppToken", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://slack.com/api/", true)]
    [InlineData("http://127.0.0.1:5111/api/", true)]
    [InlineData("http://localhost:5111/api/", true)]
    [InlineData("http://[::1]:5111/api/", true)]
    [InlineData("http://slack.example.com/api/", false)]
    [InlineData("not a url", false)]
    public void Slack_ApiBaseUrl_HttpsOrLoopbackOnly(string url, bool valid)
    {
        var result = new SlackOptionsValidator().Validate(null, new SlackOptions { BotToken = "xoxb-1", SigningSecret = "s", ApiBaseUrl = url });

        Assert.Equal(valid, result.Succeeded);
    }

    [Fact]
    public void Teams_AppIdWithoutPassword_FailsNamingTheKey()
    {
        var result = new TeamsOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" }).Validate(null, new TeamsOptions { AppId = "app" });

        Assert.Contains("Teams:AppPassword", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Teams_PlainHttpMetadataOnAPublicHost_Fails()
    {
        var result = new TeamsOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" }).Validate(null, new TeamsOptions
        {
            AppId = "app", AppPassword = "secret", OpenIdMetadataUrl = "http://login.example.com/openid",
        });

        Assert.Contains("Teams:OpenIdMetadataUrl", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Teams_Defaults_PointAtTheBotFramework()
    {
        var options = new TeamsOptions { AppId = "app", AppPassword = "secret" };

        Assert.True(new TeamsOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" }).Validate(null, options).Succeeded);
        Assert.Equal(TeamsOptions.BotFrameworkOpenIdMetadataUrl, options.OpenIdMetadataUrl);
        Assert.True(OptionsUrls.IsLoopback(new Uri("http://127.0.0.2:1/")));
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Testing", false)]
    [InlineData("Development", true)]
    public void Teams_EmulatorTokens_OnlyInDevelopment(string environment, bool valid)
    {
        var options = new TeamsOptions { AppId = "app", AppPassword = "secret", DangerouslyAcceptEmulatorTokens = true };

        var result = new TeamsOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment }).Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Teams:DangerouslyAcceptEmulatorTokens", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("smba.trafficmanager.net", "smba.trafficmanager.net", true)]
    [InlineData("SMBA.trafficmanager.net", "smba.trafficmanager.net", true)]
    [InlineData("evil-smba.trafficmanager.net.example", "smba.trafficmanager.net", false)]
    [InlineData("api.botframework.com", "*.botframework.com", true)]
    [InlineData("botframework.com.evil.example", "*.botframework.com", false)]
    [InlineData("evilbotframework.com", "*.botframework.com", false)]
    public void Teams_ServiceUrlHostPatterns(string host, string pattern, bool matches) =>
        Assert.Equal(matches, ChatBot.Adapters.Teams.Connector.ConnectorClient.HostMatches(host, pattern));
}
