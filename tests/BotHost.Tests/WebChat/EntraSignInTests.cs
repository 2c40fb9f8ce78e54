using System.Net;
using System.Text.RegularExpressions;
using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Tests.WebChat;

/// <summary>
/// Sign-in with Entra ID through the whole OpenID Connect exchange against a fake Entra on 127.0.0.1: the host's
/// challenge, the provider's form post back, the host redeeming the code (client secret + PKCE) and checking the
/// ID token against the provider's published key.
/// </summary>
public sealed partial class EntraSignInTests : IAsyncLifetime
{
    private FakeOpenIdProvider _entra = null!;
    private readonly HttpClient _browserToEntra = new(new HttpClientHandler { AllowAutoRedirect = false });

    public async Task InitializeAsync() => _entra = await FakeOpenIdProvider.StartAsync();

    public async Task DisposeAsync()
    {
        _browserToEntra.Dispose();
        await _entra.DisposeAsync();
    }

    [Fact]
    public async Task SignIn_ValidToken_CreatesTheUserSignsThemInAndAudits()
    {
        using var app = App();
        using var client = Client(app);
        _entra.NextUser = new FakeSignInUser("oid-ada", "Ada Lovelace", "ada@contoso.com");

        using var callback = await SignInAsync(client, returnUrl: "/?c=42");

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/?c=42", callback.Headers.Location!.OriginalString);
        Assert.Empty(_entra.ProtocolErrors);
        var me = await client.GetStringAsync(new Uri("/api/chat/me", UriKind.Relative));
        Assert.Contains("Ada Lovelace", me, StringComparison.Ordinal);
        await using var db = Db(app);
        var identity = await db.ChannelIdentities.Include(i => i.User).SingleAsync(i => i.ExternalUserId == "oid-ada");
        Assert.Equal(Channel.Web, identity.Channel);
        Assert.Equal(FakeOpenIdProvider.DefaultTenant, identity.TenantId);
        Assert.Equal("ada@contoso.com", identity.User!.NormalizedEmail);
        Assert.Equal(UserRole.User, identity.User.Role);
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "signin" && a.ActorUserId == identity.UserId && a.Details!.Contains("entra")));
    }

    [Fact]
    public async Task SignIn_SameEmailAsATeamsUser_IsTheSameUser()
    {
        using var app = App();
        Guid teamsUserId;
        await using (var db = Db(app))
        {
            var user = new User { DisplayName = "Ada (Teams)", Email = "Ada@Contoso.com", NormalizedEmail = "ada@contoso.com", CreatedAt = DateTime.UtcNow };
            db.Users.Add(user);
            db.ChannelIdentities.Add(new ChannelIdentity { UserId = user.Id, Channel = Channel.Teams, TenantId = FakeOpenIdProvider.DefaultTenant, ExternalUserId = "29:teams-ada", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
            teamsUserId = user.Id;
        }

        using var client = Client(app);
        (await SignInAsync(client)).Dispose();

        await using var check = Db(app);
        Assert.Equal(teamsUserId, (await check.ChannelIdentities.SingleAsync(i => i.ExternalUserId == "oid-ada")).UserId);
        Assert.Equal(1, await check.Users.CountAsync(u => u.NormalizedEmail == "ada@contoso.com"));
    }

    [Fact]
    public async Task SignIn_AppRoles_SetTheRoleAndLosingThemDemotes()
    {
        using var app = App();
        using (var first = Client(app))
        {
            _entra.NextUser = new FakeSignInUser("oid-ada", "Ada Lovelace", "ada@contoso.com", "KnowledgeOwner", "Admin");
            (await SignInAsync(first)).Dispose();
            Assert.Contains("\"role\":\"Admin\"", await first.GetStringAsync(new Uri("/api/chat/me", UriKind.Relative)), StringComparison.Ordinal);
        }

        using var second = Client(app);
        _entra.NextUser = new FakeSignInUser("oid-ada", "Ada Lovelace", "ada@contoso.com");
        (await SignInAsync(second)).Dispose();

        Assert.Contains("\"role\":\"User\"", await second.GetStringAsync(new Uri("/api/chat/me", UriKind.Relative)), StringComparison.Ordinal);
        await using var db = Db(app);
        Assert.Equal(2, await db.AuditLog.CountAsync(a => a.Action == "user.role.changed"));
    }

    [Theory]
    [InlineData(IdTokenFault.ForgedSignature)]
    [InlineData(IdTokenFault.WrongAudience)]
    [InlineData(IdTokenFault.WrongIssuer)]
    [InlineData(IdTokenFault.WrongNonce)]
    [InlineData(IdTokenFault.Expired)]
    [InlineData(IdTokenFault.OtherTenant)]
    [InlineData(IdTokenFault.NoObjectId)]
    public async Task SignIn_BadIdToken_IsRefusedAndNothingIsStored(IdTokenFault fault)
    {
        using var app = App();
        using var client = Client(app);
        _entra.NextFault = fault;

        using var callback = await SignInAsync(client);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/signin?error=entra", callback.Headers.Location!.OriginalString);
        Assert.Equal(1, _entra.TokensIssued);
        using var me = await client.GetAsync(new Uri("/api/chat/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        await using var db = Db(app);
        Assert.False(await db.ChannelIdentities.AnyAsync(i => i.Channel == Channel.Web && i.TenantId != "local"));
        var page = await client.GetStringAsync(new Uri(callback.Headers.Location.OriginalString, UriKind.Relative));
        Assert.Contains("Sign-in with Microsoft did not complete", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_PersonCancelsAtMicrosoft_ShowsTheErrorAndStoresNothing()
    {
        using var app = App();
        using var client = Client(app);
        _entra.NextUser = null;

        using var callback = await SignInAsync(client);

        Assert.Equal("/signin?error=entra", callback.Headers.Location!.OriginalString);
        Assert.Equal(0, _entra.TokensIssued);
    }

    [Fact]
    public async Task SignIn_CallbackWithoutTheCorrelationCookie_IsRefused()
    {
        using var app = App();
        using var attacker = Client(app);
        using var victim = Client(app);

        // The attacker starts a sign-in and hands the provider's answer to someone else's browser (login CSRF).
        using var challenge = await attacker.GetAsync(new Uri("/signin/entra", UriKind.Relative));
        var (action, fields) = await FollowToProviderAsync(challenge);
        using var callback = await victim.PostAsync(action, new FormUrlEncodedContent(fields));

        Assert.Equal("/signin?error=entra", callback.Headers.Location!.OriginalString);
        Assert.Equal(0, _entra.TokensIssued);
    }

    [Fact]
    public async Task SignIn_SuspendedUser_IsRefusedWithAReason()
    {
        using var app = App();
        await using (var db = Db(app))
        {
            db.Users.Add(new User { DisplayName = "Ada", Email = "ada@contoso.com", NormalizedEmail = "ada@contoso.com", IsSuspended = true, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }

        using var client = Client(app);
        using var callback = await SignInAsync(client);

        Assert.Equal("/signin?error=suspended", callback.Headers.Location!.OriginalString);
        using var me = await client.GetAsync(new Uri("/api/chat/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Contains("This account is suspended", await client.GetStringAsync(new Uri("/signin?error=suspended", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotConfigured_NoButtonAndNoChallenge()
    {
        using var app = new ChatBotAppFactory();
        using var client = Client(app);

        using var challenge = await client.GetAsync(new Uri("/signin/entra", UriKind.Relative));
        var page = await client.GetStringAsync(new Uri("/signin", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, challenge.StatusCode);
        Assert.DoesNotContain("signin-entra", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_SignInPageShowsTheButtonKeepingTheReturnUrl()
    {
        using var app = App();
        using var client = Client(app);

        var page = await client.GetStringAsync(new Uri("/signin?ReturnUrl=%2Fadmin", UriKind.Relative));

        Assert.Contains("id=\"signin-entra\" href=\"/signin/entra?returnUrl=%2Fadmin\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Challenge_ForeignReturnUrl_GoesHomeInstead()
    {
        using var app = App();
        using var client = Client(app);

        using var callback = await SignInAsync(client, returnUrl: "https://evil.example/");

        Assert.Equal("/", callback.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("common", "secret", "https://login.microsoftonline.com/", "not a multi-tenant value")]
    [InlineData(null, "secret", "https://login.microsoftonline.com/", "Entra:TenantId is required")]
    [InlineData("contoso.com", null, "https://login.microsoftonline.com/", "Entra:ClientSecret is required")]
    [InlineData("contoso.com", "secret", "http://login.example.com/", "Entra:Instance must use https")]
    public void Options_Invalid_AreRefusedWithTheKey(string? tenant, string? secret, string instance, string message)
    {
        var options = new EntraOptions { ClientId = "id", TenantId = tenant, ClientSecret = secret, Instance = instance };

        var result = new EntraOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_NotConfiguredOrComplete_AreValid()
    {
        var validator = new EntraOptionsValidator();
        Assert.True(validator.Validate(null, new EntraOptions()).Succeeded);
        Assert.True(validator.Validate(null, new EntraOptions { ClientId = "id", TenantId = FakeOpenIdProvider.DefaultTenant, ClientSecret = "s" }).Succeeded);
    }

    private ChatBotAppFactory App() => new ChatBotAppFactory()
        .With("Entra:Instance", _entra.Instance)
        .With("Entra:TenantId", FakeOpenIdProvider.DefaultTenant)
        .With("Entra:ClientId", FakeOpenIdProvider.ClientId)
        .With("Entra:ClientSecret", FakeOpenIdProvider.ClientSecret);

    private static HttpClient Client(ChatBotAppFactory app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static ChatDbContext Db(ChatBotAppFactory app) =>
        app.Db();

    /// <summary>What a browser does: follow the challenge to the provider, then submit its self-posting form back.</summary>
    private async Task<HttpResponseMessage> SignInAsync(HttpClient client, string? returnUrl = null)
    {
        var path = "/signin/entra" + (returnUrl is null ? "" : "?returnUrl=" + Uri.EscapeDataString(returnUrl));
        using var challenge = await client.GetAsync(new Uri(path, UriKind.Relative));
        var (action, fields) = await FollowToProviderAsync(challenge);
        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    private async Task<(Uri Action, Dictionary<string, string> Fields)> FollowToProviderAsync(HttpResponseMessage challenge)
    {
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(_entra.BaseUrl + "/" + FakeOpenIdProvider.DefaultTenant + "/oauth2/v2.0/authorize", authorize.AbsoluteUri, StringComparison.Ordinal);
        var html = await _browserToEntra.GetStringAsync(authorize);
        var action = new Uri(WebUtility.HtmlDecode(FormAction().Match(html).Groups[1].Value));
        var fields = HiddenField().Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        return (new Uri(action.PathAndQuery, UriKind.Relative), fields);
    }

    [GeneratedRegex("<form method=\"POST\" action=\"([^\"]+)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenField();
}
