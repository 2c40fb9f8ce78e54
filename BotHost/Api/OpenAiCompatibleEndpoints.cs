using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;
using ChatBot.BotHost.Models;
using ChatBot.ChatData.Users;

namespace ChatBot.BotHost.Api;

/// <summary>
/// An OpenAI-compatible surface so any OpenAI client library can use ChatBot: <c>GET /v1/models</c> and
/// <c>POST /v1/chat/completions</c> (whole, or streamed as <c>chat.completion.chunk</c> events ending with
/// <c>[DONE]</c>). The key is the API key (scope <c>chat</c>). ChatBot keeps its own history, so the last user
/// message is the question and each request is a conversation of its own; the answer comes from the company knowledge
/// the key's owner may see, with its citations in a <c>citations</c> field and as [n] markers in the text.
/// </summary>
internal static class OpenAiCompatibleEndpoints
{
    public static IEndpointRouteBuilder MapOpenAiCompatible(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").RequireAuthorization(ApiPolicies.Chat).WithTags("OpenAI-compatible").DisableAntiforgery();
        v1.MapGet("/models", Models).WithSummary("The models the key's owner may use (\"extractive\" without a language model).");
        v1.MapPost("/chat/completions", CompletionsAsync).WithSummary("Answers the last user message from company knowledge, with citations.");
        return endpoints;
    }

    private static JsonObject Models(ClaimsPrincipal principal, ModelCatalog catalog)
    {
        var role = Enum.TryParse<UserRole>(principal.FindFirstValue(ClaimTypes.Role), out var r) ? r : UserRole.User;
        var ids = catalog.IsExtractive ? ["extractive"] : catalog.AllowedFor(role).Select(m => m.Id).ToList();
        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. ids.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["object"] = "model", ["created"] = 0, ["owned_by"] = "chatbot" })]),
        };
    }

    private static async Task<IResult> CompletionsAsync(HttpContext http, ITurnInbox inbox, WebChatFeeds feeds, TimeProvider clock)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }, cancellationToken: http.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return Error(StatusCodes.Status400BadRequest, "The body is not valid JSON.", "invalid_json");
        }

        var question = (body?["messages"] as JsonArray)?.OfType<JsonObject>().LastOrDefault(m => (string?)m["role"] == "user") is { } last ? TextOf(last["content"]) : null;
        if (string.IsNullOrWhiteSpace(question) || question.Length > WebChatEndpoints.MaxMessageLength)
        {
            return Error(StatusCodes.Status400BadRequest, $"messages must end with a user message of 1 to {WebChatEndpoints.MaxMessageLength} characters.", "invalid_messages");
        }

        var model = (string?)body!["model"];
        var stream = (bool?)body["stream"] == true;
        var turn = ApiEndpoints.Turn(http.User, Guid.NewGuid(), question.Trim(), model is null or "extractive" or "chatbot" ? null : model, Guid.NewGuid(), clock);
        var receipt = await inbox.AcceptAsync(turn, http.RequestAborted);
        var id = "chatcmpl-" + receipt.TurnId.ToString(CultureInfo.InvariantCulture);
        var created = clock.GetUtcNow().ToUnixTimeSeconds();
        if (stream)
        {
            await StreamAsync(http, receipt, feeds, id, created, model ?? "chatbot");
            return TypedResults.Empty;
        }

        var final = await WebChatEndpoints.FinalAsync(receipt, feeds, http.RequestAborted);
        if (final is not { Name: "final", Data: WebMessageView view })
        {
            return Error(StatusCodes.Status502BadGateway, final?.Data.GetType().GetProperty("message")?.GetValue(final.Data) as string ?? "The answer did not arrive.", "answer_failed");
        }

        return TypedResults.Text(new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = view.Model ?? model ?? "chatbot",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = view.Text },
                ["finish_reason"] = "stop",
            }),
            ["citations"] = Citations(view.Citations),
        }.ToJsonString(), "application/json");
    }

    /// <summary>OpenAI's streaming format: <c>data: {chunk}</c> lines, the role first, then content, then the finish, then <c>[DONE]</c>.</summary>
    private static async Task StreamAsync(HttpContext http, InboxReceipt receipt, WebChatFeeds feeds, string id, long created, string model)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var cancellationToken = http.RequestAborted;
        await WriteAsync(Chunk(id, created, model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
        var reader = feeds.Reader(receipt.TurnId);
        var streamed = false;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                while (reader.TryRead(out var item))
                {
                    switch (item.Name)
                    {
                        case "delta":
                            streamed = true;
                            await WriteAsync(Chunk(id, created, model, new JsonObject { ["content"] = item.Data.GetType().GetProperty("text")?.GetValue(item.Data) as string ?? "" }, null));
                            break;
                        case "final" when item.Data is WebMessageView view:
                            if (!streamed)
                            {
                                await WriteAsync(Chunk(id, created, view.Model ?? model, new JsonObject { ["content"] = view.Text }, null));
                            }

                            var last = Chunk(id, created, view.Model ?? model, new JsonObject(), "stop");
                            last["citations"] = Citations(view.Citations);
                            await WriteAsync(last);
                            break;
                        case "error":
                            await WriteAsync(Chunk(id, created, model, new JsonObject { ["content"] = item.Data.GetType().GetProperty("message")?.GetValue(item.Data) as string ?? "" }, "error"));
                            break;
                    }
                }

                await response.Body.FlushAsync(cancellationToken);
            }

            feeds.Remove(receipt.TurnId);
            await response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left; the answer is still recorded.
        }

        async Task WriteAsync(JsonObject chunk)
        {
            await response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
    }

    private static JsonObject Chunk(string id, long created, string model, JsonObject delta, string? finish) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };

    private static JsonArray Citations(IReadOnlyList<Citation> citations) =>
        new([.. citations.Select(c => (JsonNode)new JsonObject { ["number"] = c.Number, ["title"] = c.Title, ["url"] = c.Url, ["page"] = c.Page, ["snippet"] = c.Snippet })]);

    /// <summary>A message's content: a string, or OpenAI's array of parts (text parts are joined).</summary>
    private static string? TextOf(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonArray parts => string.Join("\n", parts.OfType<JsonObject>().Where(p => (string?)p["type"] == "text").Select(p => (string?)p["text"])),
        _ => null,
    };

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<object> Error(int status, string message, string code) =>
        TypedResults.Json<object>(new { error = new { message, type = "invalid_request_error", code } }, statusCode: status);
}
