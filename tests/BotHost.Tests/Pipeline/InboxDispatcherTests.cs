using ChatBot.BotHost.Inbox;
using ChatBot.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChatBot.BotHost.Tests.Pipeline;

/// <summary>The dispatcher's own pacing runs on real time: a frozen test clock (or a clock that jumps) never stalls turns.</summary>
public sealed class InboxDispatcherTests
{
    [Fact]
    public async Task ATurn_ArrivingWhileAnotherWebhookIsBeingStored_IsAnswered_EvenOnAFrozenClock()
    {
        var frozen = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 10, 0, 20, TimeSpan.Zero));
        using var app = new ChatBotAppFactory().WithServices(s => s.AddSingleton<TimeProvider>(frozen));
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var signal = app.Services.GetRequiredService<InboxSignal>();

        signal.AcceptStarted(); // a webhook whose write never finishes: new turns wait for it, but only so long
        try
        {
            var exchange = await chat.SendAsync("What is the travel policy?").WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(System.Net.HttpStatusCode.OK, exchange.Status);
            Assert.NotEmpty(exchange.FinalText);
        }
        finally
        {
            signal.AcceptEnded();
        }
    }
}
