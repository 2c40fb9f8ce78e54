using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.TestSupport;

/// <summary>One server-sent event of an answer.</summary>
public sealed record ChatEvent(string Name, JsonElement Data);

/// <summary>What came back for one message.</summary>
public sealed record ChatExchange(HttpStatusCode Status, IReadOnlyList<ChatEvent> Events)
{
    public ChatEvent? Final => Events.LastOrDefault(e => e.Name == "final");

    public ChatEvent? Error => Events.LastOrDefault(e => e.Name == "error");

    public string FinalText => Final?.Data.GetProperty("text").GetString() ?? throw new InvalidOperationException("No final event: " + string.Join(", ", Events.Select(e => e.Name + " " + e.Data)));

    public string Streamed => string.Concat(Events.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString()));
}

/// <summary>
/// A signed-in web chat user, driving the host the way the page does: the sign-in form (with its antiforgery token),
/// then JSON posts whose answers stream back as server-sent events.
/// </summary>
public sealed partial class ChatDriver
{
    public const string Password = "correct horse battery staple";

    private ChatDriver(HttpClient client, User user)
    {
        Client = client;
        User = user;
    }

    public HttpClient Client { get; }

    public User User { get; }

    public Guid ConversationId { get; set; } = Guid.NewGuid();

    /// <summary>Creates a local user (no forced password change) and signs them in on a fresh cookie jar.</summary>
    public static async Task<ChatDriver> SignInNewUserAsync(WebApplicationFactory<Program> app, UserRole role = UserRole.User, string? email = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var userName = "user-" + Guid.NewGuid().ToString("N")[..8];
        var accounts = app.Services.GetRequiredService<AccountService>();
        var user = await accounts.CreateLocalAsync(userName, "Test " + userName, email ?? $"{userName}@example.com", role, Password, mustChangePassword: false, CancellationToken.None);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var status = await SignInAsync(client, userName, Password);
        if (status != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in answered {status}.");
        }

        return new ChatDriver(client, user);
    }

    /// <summary>Posts the sign-in form; 302 means signed in.</summary>
    public static async Task<HttpStatusCode> SignInAsync(HttpClient client, string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(client);
        var page = await client.GetStringAsync(new Uri("/signin", UriKind.Relative));
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = userName,
            ["Password"] = password,
            ["__RequestVerificationToken"] = token,
        });
        using var response = await client.PostAsync(new Uri("/signin", UriKind.Relative), form);
        return response.StatusCode;
    }

    public async Task<ChatExchange> SendAsync(string text, string? model = null, Guid? clientMessageId = null)
    {
        using var response = await Client.PostAsJsonAsync(
            new Uri($"/api/chat/conversations/{ConversationId}/messages", UriKind.Relative),
            new { clientMessageId = clientMessageId ?? Guid.NewGuid(), text, model });
        var body = await response.Content.ReadAsStringAsync();
        return new ChatExchange(response.StatusCode, response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? Parse(body) : []);
    }

    public static List<ChatEvent> Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var events = new List<ChatEvent>();
        foreach (var block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null, data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
            }

            if (name is not null)
            {
                events.Add(new ChatEvent(name, JsonDocument.Parse(data ?? "null").RootElement.Clone()));
            }
        }

        return events;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
