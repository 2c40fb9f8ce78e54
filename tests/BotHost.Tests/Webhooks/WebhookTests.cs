using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatBot.ChatData.Users;
using ChatBot.ChatData.Webhooks;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatBot.BotHost.Tests.Webhooks;

/// <summary>
/// Outgoing webhooks end to end: an admin adds one in the portal (secret shown once), events happen through the real
/// host, and a receiver on 127.0.0.1 checks every signature; a 500 is retried until it is delivered.
/// </summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Event, string Body, bool SignatureValid)> _received = new();
    private WebApplication _receiver = null!;
    private string _receiverUrl = "";
    private string _secret = "";
    private int _failuresLeft;
    private ChatBotAppFactory _app = null!;
    private ChatDriver _admin = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            if (Interlocked.Decrement(ref _failuresLeft) >= 0)
            {
                return Results.StatusCode(500);
            }

            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_secret), Encoding.UTF8.GetBytes(request.Headers["X-ChatBot-Timestamp"] + "." + body)));
            _received.Enqueue((request.Headers["X-ChatBot-Event"].ToString(), body, CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(request.Headers["X-ChatBot-Signature"].ToString()))));
            return Results.Ok();
        });
        await _receiver.StartAsync();
        _receiverUrl = _receiver.Urls.First() + "/hook";
        _app = new ChatBotAppFactory();
        _admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task AddWebhookAsync(params string[] events)
    {
        var fields = new List<KeyValuePair<string, string>> { new("url", _receiverUrl), new("description", "ticketing") };
        fields.AddRange(events.Select(e => new KeyValuePair<string, string>("events", e)));
        var page = await _admin.Client.GetStringAsync(new Uri("/admin/webhooks", UriKind.Relative));
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        fields.Add(new("__RequestVerificationToken", token));
        using var form = new FormUrlEncodedContent(fields);
        using var added = await _admin.Client.PostAsync(new Uri("/admin/webhooks?handler=Add", UriKind.Relative), form);
        _secret = System.Text.RegularExpressions.Regex.Match(await added.Content.ReadAsStringAsync(), "<code id=\"new-secret\">([^<]+)</code>").Groups[1].Value;
        Assert.StartsWith("whsec_", _secret, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuspensionAndNegativeFeedback_AreDeliveredSigned_OnlyForSubscribedEvents()
    {
        await AddWebhookAsync(WebhookEvents.UserSuspended, WebhookEvents.FeedbackNegative);
        var person = await ChatDriver.SignInNewUserAsync(_app);
        var answer = await person.SendAsync("What is the travel policy?");
        var messageId = answer.Final!.Data.GetProperty("messageId").GetInt64();

        using (var feedback = await person.Client.PostAsJsonAsync(new Uri($"/api/chat/conversations/{person.ConversationId}/messages/{messageId}/feedback", UriKind.Relative), new { rating = -1, comment = "wrong" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, feedback.StatusCode);
        }

        await PostFormAsync($"/admin/users/{person.User.Id}", "Suspend", []);
        await PostFormAsync($"/admin/users/{person.User.Id}", "Role", [new("role", "KnowledgeOwner")]);

        await WaitAsync(() => _received.Count >= 2);
        var events = _received.ToList();
        Assert.Equal([WebhookEvents.FeedbackNegative, WebhookEvents.UserSuspended], events.Select(e => e.Event).Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.True(e.SignatureValid));
        var suspended = JsonDocument.Parse(events.Single(e => e.Event == WebhookEvents.UserSuspended).Body).RootElement;
        Assert.Equal(person.User.Id, suspended.GetProperty("data").GetProperty("userId").GetGuid());
        var feedbackEvent = JsonDocument.Parse(events.Single(e => e.Event == WebhookEvents.FeedbackNegative).Body).RootElement;
        Assert.Equal(messageId, feedbackEvent.GetProperty("data").GetProperty("messageId").GetInt64());
        Assert.DoesNotContain("wrong", feedbackEvent.GetRawText(), StringComparison.Ordinal); // no message text leaves in webhooks
        var log = await _admin.Client.GetStringAsync(new Uri("/admin/webhooks", UriKind.Relative));
        Assert.Contains("badge ok\">delivered", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiverAnswering500_IsRetriedWithTheSameBody_UntilDelivered()
    {
        _failuresLeft = 1;
        await AddWebhookAsync(WebhookEvents.DocumentIndexed, WebhookEvents.DocumentFailed);
        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);

        using var form = new MultipartFormDataContent { { new ByteArrayContent("# Parking\n\nThe garage opens at 7."u8.ToArray()), "file", "parking.md" } };
        var page = await owner.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative));
        form.Add(new StringContent(System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value), "__RequestVerificationToken");
        form.Add(new StringContent("Organisation"), "scope");
        (await owner.Client.PostAsync(new Uri("/admin/documents?handler=Upload", UriKind.Relative), form)).Dispose();

        // The first attempt failed; its retry is scheduled 30 s out: run it now, as the scheduler would.
        await _app.WaitForAsync(async db => await db.WebhookDeliveries.AnyAsync(d => d.Attempts == 1 && d.LastStatusCode == 500), TimeSpan.FromSeconds(30));
        long id;
        await using (var db = _app.Db())
        {
            var delivery = await db.WebhookDeliveries.SingleAsync();
            Assert.Equal((WebhookDeliveryStatus.Pending, "The receiver answered 500."), (delivery.Status, delivery.LastError));
            Assert.NotNull(delivery.NextAttemptAt);
            id = delivery.Id;
        }

        using (var scope = _app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<ChatBot.BotHost.Webhooks.WebhookDeliveryJob>().RunAsync(id, CancellationToken.None);
        }

        var (name, body, valid) = Assert.Single(_received);
        Assert.Equal((WebhookEvents.DocumentIndexed, true), (name, valid));
        Assert.Equal(id, JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64());
        await using var check = _app.Db();
        var done = await check.WebhookDeliveries.SingleAsync();
        Assert.Equal((WebhookDeliveryStatus.Delivered, 2), (done.Status, done.Attempts));
    }

    [Fact]
    public async Task AddingAPlainHttpUrlOnAPublicHost_IsRefused()
    {
        var page = await _admin.Client.GetStringAsync(new Uri("/admin/webhooks", UriKind.Relative));
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var form = new FormUrlEncodedContent([new("url", "http://tickets.example.com/hook"), new("events", WebhookEvents.UserSuspended), new("__RequestVerificationToken", token)]);
        (await _admin.Client.PostAsync(new Uri("/admin/webhooks?handler=Add", UriKind.Relative), form)).Dispose();

        Assert.Contains("must use https", await _admin.Client.GetStringAsync(new Uri("/admin/webhooks", UriKind.Relative)), StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.False(await db.WebhookEndpoints.AnyAsync());
    }

    private async Task PostFormAsync(string page, string handler, List<KeyValuePair<string, string>> fields)
    {
        var html = await _admin.Client.GetStringAsync(new Uri(page, UriKind.Relative));
        fields.Add(new("__RequestVerificationToken", System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value));
        using var form = new FormUrlEncodedContent(fields);
        (await _admin.Client.PostAsync(new Uri($"{page}?handler={handler}", UriKind.Relative), form)).Dispose();
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }
}
