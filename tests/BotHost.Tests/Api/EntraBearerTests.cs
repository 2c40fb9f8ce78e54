using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;

namespace ChatBot.BotHost.Tests.Api;

/// <summary>Entra ID access tokens on the public API, from a fake Entra on 127.0.0.1 (its keys, issuer and audience).</summary>
public sealed class EntraBearerTests : IAsyncLifetime
{
    private FakeOpenIdProvider _entra = null!;
    private ChatBotAppFactory _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _entra = await FakeOpenIdProvider.StartAsync();
        _app = new ChatBotAppFactory()
            .With("Entra:Instance", _entra.Instance)
            .With("Entra:TenantId", FakeOpenIdProvider.DefaultTenant)
            .With("Entra:ClientId", FakeOpenIdProvider.ClientId)
            .With("Entra:ClientSecret", FakeOpenIdProvider.ClientSecret);
        await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner, "ada@contoso.com");
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _entra.DisposeAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _client.SendAsync(request);
    }

    [Theory]
    [InlineData(FakeOpenIdProvider.ClientId)]
    [InlineData("api://" + FakeOpenIdProvider.ClientId)]
    public async Task EntraToken_ActsAsTheLinkedUser_WithTheScopesTheirRoleAllows(string audience)
    {
        var token = _entra.AccessToken(new FakeSignInUser("oid-ada", "Ada Lovelace", "ada@contoso.com"), audience);

        using var me = await GetAsync("/api/v1/me", token);
        using var documents = await GetAsync("/api/v1/documents", token);
        using var admin = await GetAsync("/api/v1/admin/users", token);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("ada@contoso.com", "KnowledgeOwner"), (body.GetProperty("email").GetString(), body.GetProperty("role").GetString()));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden), (documents.StatusCode, admin.StatusCode));
    }

    [Fact]
    public async Task BadEntraTokens_Are401()
    {
        var ada = new FakeSignInUser("oid-ada", "Ada Lovelace", "ada@contoso.com");
        var tokens = new[]
        {
            _entra.AccessToken(ada, FakeOpenIdProvider.ClientId, forged: true),
            _entra.AccessToken(ada, FakeOpenIdProvider.ClientId, expired: true),
            _entra.AccessToken(ada, "another-app"),
            _entra.AccessToken(new FakeSignInUser("oid-bob", "Bob", "bob@contoso.com"), FakeOpenIdProvider.ClientId), // never signed in to ChatBot
            _entra.AccessToken(ada with { TenantId = "99999999-8888-7777-6666-555555555555" }, FakeOpenIdProvider.ClientId),
            "not-a-jwt",
        };

        foreach (var token in tokens)
        {
            using var response = await GetAsync("/api/v1/me", token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}
