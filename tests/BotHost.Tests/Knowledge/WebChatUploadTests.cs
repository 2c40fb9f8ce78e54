using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBot.TestSupport;

namespace ChatBot.BotHost.Tests.Knowledge;

/// <summary>The web chat's upload endpoint with bad input: each refused with a clear status and message, nothing kept.</summary>
public sealed class WebChatUploadTests
{
    [Fact]
    public async Task Upload_WithoutThePageHeader_IsRefused_SoACrossSiteFormCannotPostFiles()
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        using var response = await chat.Client.PostAsync(Route(), Form("notes.txt", "Some notes."));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("X-ChatBot-Upload", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tool.exe", "MZ", HttpStatusCode.BadRequest, "not a supported file type")]
    [InlineData("empty.txt", "", HttpStatusCode.BadRequest, "is empty")]
    [InlineData("big.txt", "BIG", HttpStatusCode.RequestEntityTooLarge, "larger than")]
    public async Task Upload_BadFiles_AreRefusedWithTheReason(string name, string content, HttpStatusCode status, string reason)
    {
        using var app = new ChatBotAppFactory().With("Knowledge:MaxFileBytes", "1024");
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var body = content == "BIG" ? new string('x', 3 * 1024 * 1024) : content;

        using var response = await SendAsync(chat, Form(name, body));

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_IsAccepted_AndOnlyItsUploaderCanReadItsStatus()
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var other = await ChatDriver.SignInNewUserAsync(app);

        using var response = await SendAsync(chat, Form("notes.txt", "Some notes about parking."));
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        var status = new Uri($"/api/chat/documents/{view.GetProperty("documentId").GetString()}", UriKind.Relative);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("notes", view.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, (await chat.Client.GetAsync(status)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.GetAsync(status)).StatusCode);
    }

    private static Uri Route() => new($"/api/chat/conversations/{Guid.NewGuid()}/documents", UriKind.Relative);

    private static async Task<HttpResponseMessage> SendAsync(ChatDriver chat, MultipartFormDataContent form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Route()) { Content = form };
        request.Headers.Add("X-ChatBot-Upload", "1");
        return await chat.Client.SendAsync(request);
    }

    private static MultipartFormDataContent Form(string name, string content) =>
        new() { { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", name } };
}
