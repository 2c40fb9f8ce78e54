using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatBot.TestSupport.Fakes;

/// <summary>What the fake model does with one request.</summary>
public abstract record FakeReply
{
    /// <summary>Streams <paramref name="text"/> in pieces of <paramref name="pieceLength"/> characters, then usage, then [DONE].</summary>
    public static FakeReply Text(string text, TimeSpan? firstTokenDelay = null, TimeSpan? tokenDelay = null, int pieceLength = 6, int? promptTokens = null, int? completionTokens = null, string finishReason = "stop") =>
        new StreamReply(text, firstTokenDelay ?? TimeSpan.Zero, tokenDelay ?? TimeSpan.Zero, pieceLength, promptTokens, completionTokens) { FinishReason = finishReason };

    /// <summary>An error status with an OpenAI-style error body (and Retry-After seconds when given).</summary>
    public static FakeReply Status(int status, int? retryAfterSeconds = null) => new StatusReply(status, retryAfterSeconds);

    /// <summary>Never answers (until the client gives up).</summary>
    public static FakeReply Hang() => new HangReply();

    /// <summary>Streams some words, then stops sending anything while keeping the connection open.</summary>
    public static FakeReply StallAfter(string text) => new StallReply(text);
}

public sealed record StreamReply(string Content, TimeSpan FirstTokenDelay, TimeSpan TokenDelay, int PieceLength, int? PromptTokens, int? CompletionTokens) : FakeReply
{
    /// <summary>"stop", or "content_filter" for an answer the provider's filter cut.</summary>
    public string FinishReason { get; init; } = "stop";
}

public sealed record StatusReply(int Code, int? RetryAfterSeconds) : FakeReply;

public sealed record HangReply : FakeReply;

public sealed record StallReply(string Content) : FakeReply;

/// <summary>A request the fake received.</summary>
public sealed record FakeRequest(string Model, bool Stream, IReadOnlyList<(string Role, string Content)> Messages, string? Authorization, DateTimeOffset At)
{
    /// <summary>The path the request came to (which API it used).</summary>
    public string Path { get; init; } = "";
}

/// <summary>
/// An OpenAI-compatible chat completions server on 127.0.0.1 that streams over SSE exactly as the real API does
/// (role chunk, content chunks, finish chunk, usage chunk, [DONE]). Replies are scripted per model; unscripted
/// requests get <see cref="Default"/>. Any other path counts as unexpected.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<FakeReply>> _scripts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private int _unexpected;

    private FakeOpenAiServer(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    /// <summary>The reply to requests with no script left; a short answer by default.</summary>
    public Func<FakeRequest, FakeReply> Default { get; set; } = _ => FakeReply.Text("Hello from the fake model.");

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    public int UnexpectedRequests => _unexpected;

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", server.CompletionsAsync);
        // Azure OpenAI: the same body and stream, the deployment in the path, the key in an api-key header.
        app.MapPost("/openai/deployments/{deployment}/chat/completions", server.AzureCompletionsAsync);
        // Anthropic Messages API: its own request shape and SSE events.
        app.MapPost("/v1/messages", server.AnthropicMessagesAsync);
        // Embeddings: float arrays or base64 float32, as the request's encoding_format asks (the .NET SDK asks for base64).
        app.MapPost("/v1/embeddings", server.EmbeddingsAsync);
        app.MapFallback(context =>
        {
            Interlocked.Increment(ref server._unexpected);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Endpoint = address.TrimEnd('/') + "/v1";
        return server;
    }

    public FakeOpenAiServer Script(string model, params FakeReply[] replies)
    {
        var queue = _scripts.GetOrAdd(model, _ => new ConcurrentQueue<FakeReply>());
        foreach (var reply in replies)
        {
            queue.Enqueue(reply);
        }

        return this;
    }

    /// <summary>Embedding calls received: (model, number of inputs).</summary>
    public IReadOnlyList<(string Model, int Inputs)> EmbeddingRequests => [.. _embeddingRequests];

    /// <summary>When set, embedding requests get this status instead (an unavailable embedding service).</summary>
    public int? EmbeddingStatus { get; set; }

    /// <summary>How long each embedding request takes to answer (a slow embedding service).</summary>
    public TimeSpan EmbeddingDelay { get; set; }

    /// <summary>
    /// The fake's embedding: 256 dimensions, one per (stably) hashed word, where words of one synonym group share a dimension,
    /// so "car" and "automobile" are close while sharing no letters. Normalised to length 1.
    /// </summary>
    public static float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[256];
        foreach (var raw in text.ToLowerInvariant().Split((char[])[' ', '.', ',', '?', '!', '\n', ':', ';', '-', '(', ')', '#'], StringSplitOptions.RemoveEmptyEntries))
        {
            var word = Synonyms.GetValueOrDefault(raw.TrimEnd('s'), raw.TrimEnd('s'));
            vector[word.Aggregate(17u, (hash, c) => unchecked((hash * 31) + c)) % 256] += 1;
        }

        var length = MathF.Sqrt(vector.Sum(v => v * v));
        return length == 0 ? vector : [.. vector.Select(v => v / length)];
    }

    private static readonly Dictionary<string, string> Synonyms = new(StringComparer.Ordinal)
    {
        ["car"] = "vehicle", ["automobile"] = "vehicle", ["vehicle"] = "vehicle",
        ["fuel"] = "petrol", ["petrol"] = "petrol", ["gasoline"] = "petrol", ["tank"] = "petrol",
    };

    private readonly ConcurrentQueue<(string Model, int Inputs)> _embeddingRequests = new();

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var model = body?["model"]?.GetValue<string>() ?? "";
        var input = body?["input"];
        var inputs = input is JsonArray array ? array.Select(i => i!.GetValue<string>()).ToList() : [input?.GetValue<string>() ?? ""];
        _embeddingRequests.Enqueue((model, inputs.Count));
        if (EmbeddingDelay > TimeSpan.Zero)
        {
            await Task.Delay(EmbeddingDelay, context.RequestAborted);
        }

        if (EmbeddingStatus is int status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake status {status}", type = "server_error" } });
            return;
        }

        var base64 = body?["encoding_format"]?.GetValue<string>() == "base64";
        var data = inputs.Select((text, index) =>
        {
            var vector = Embed(text);
            object embedding = base64 ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())) : vector;
            return new { @object = "embedding", index, embedding };
        }).ToList();
        var tokens = inputs.Sum(i => i.Length / 4 + 1);
        await context.Response.WriteAsJsonAsync(new { @object = "list", data, model, usage = new { prompt_tokens = tokens, total_tokens = tokens } });
    }

    public IReadOnlyList<FakeRequest> RequestsFor(string model) => [.. _requests.Where(r => string.Equals(r.Model, model, StringComparison.OrdinalIgnoreCase))];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private Task CompletionsAsync(HttpContext context) => CompletionsAsync(context, null);

    private async Task CompletionsAsync(HttpContext context, string? deployment)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var model = deployment ?? body?["model"]?.GetValue<string>() ?? "";
        var stream = body?["stream"]?.GetValue<bool>() ?? false;
        var messages = body?["messages"]?.AsArray().Select(m => (m!["role"]!.GetValue<string>(), ContentOf(m!["content"]))).ToList() ?? [];
        var request = new FakeRequest(model, stream, messages, context.Request.Headers.Authorization.ToString(), DateTimeOffset.UtcNow) { Path = context.Request.Path };
        _requests.Enqueue(request);

        var reply = _scripts.TryGetValue(model, out var queue) && queue.TryDequeue(out var scripted) ? scripted : Default(request);
        var aborted = context.RequestAborted;
        try
        {
            switch (reply)
            {
                case StatusReply status:
                    context.Response.StatusCode = status.Code;
                    if (status.RetryAfterSeconds is { } seconds)
                    {
                        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                    }

                    await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake status {status.Code}", type = "server_error", code = (string?)null } }, aborted);
                    return;
                case HangReply:
                    await Task.Delay(Timeout.Infinite, aborted);
                    return;
                case StallReply stall:
                    await BeginStreamAsync(context, model);
                    await WriteChunkAsync(context, model, new { content = stall.Content }, null);
                    await Task.Delay(Timeout.Infinite, aborted);
                    return;
                case StreamReply text:
                    await StreamAsync(context, model, text, messages);
                    return;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client gave up.
        }
    }

    private Task AzureCompletionsAsync(HttpContext context)
    {
        // Azure puts the deployment in the path and the key in "api-key"; the body's model is absent or ignored.
        if (string.IsNullOrEmpty(context.Request.Query["api-version"]) || string.IsNullOrEmpty(context.Request.Headers["api-key"]))
        {
            Interlocked.Increment(ref _unexpected);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Task.CompletedTask;
        }

        context.Request.Headers.Authorization = "api-key " + context.Request.Headers["api-key"];
        return CompletionsAsync(context, context.Request.RouteValues["deployment"]?.ToString());
    }

    private async Task AnthropicMessagesAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var model = body?["model"]?.GetValue<string>() ?? "";
        var system = body?["system"] switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
            _ => null,
        };
        var messages = body?["messages"]?.AsArray().Select(m => (m!["role"]!.GetValue<string>(), ContentOf(m!["content"]))).ToList() ?? [];
        if (system is not null)
        {
            messages.Insert(0, ("system", system));
        }

        // The API takes the key as x-api-key; the official C# SDK sends it as a bearer token. Either is recorded.
        var key = context.Request.Headers["x-api-key"].ToString() is { Length: > 0 } apiKey ? apiKey : context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        var request = new FakeRequest(model, body?["stream"]?.GetValue<bool>() ?? false, messages, key, DateTimeOffset.UtcNow) { Path = context.Request.Path };
        _requests.Enqueue(request);
        var reply = _scripts.TryGetValue(model, out var queue) && queue.TryDequeue(out var scripted) ? scripted : Default(request);
        if (reply is StatusReply status)
        {
            context.Response.StatusCode = status.Code;
            await context.Response.WriteAsJsonAsync(new { type = "error", error = new { type = "api_error", message = $"fake status {status.Code}" } });
            return;
        }

        var text = (reply as StreamReply)?.Content ?? "";
        context.Response.ContentType = "text/event-stream";
        async Task Event(string name, object data)
        {
            await context.Response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data)}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await Event("message_start", new { type = "message_start", message = new { id = "msg_fake", type = "message", role = "assistant", model, content = Array.Empty<object>(), stop_reason = (string?)null, stop_sequence = (string?)null, usage = new { input_tokens = 321, output_tokens = 1 } } });
        await Event("content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "text", text = "" } });
        for (var i = 0; i < text.Length; i += 6)
        {
            await Event("content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "text_delta", text = text.Substring(i, Math.Min(6, text.Length - i)) } });
        }

        await Event("content_block_stop", new { type = "content_block_stop", index = 0 });
        await Event("message_delta", new { type = "message_delta", delta = new { stop_reason = "end_turn", stop_sequence = (string?)null }, usage = new { output_tokens = 12 } });
        await Event("message_stop", new { type = "message_stop" });
    }

    private static async Task StreamAsync(HttpContext context, string model, StreamReply reply, List<(string Role, string Content)> messages)
    {
        await BeginStreamAsync(context, model);
        await Task.Delay(reply.FirstTokenDelay, context.RequestAborted);
        var pieces = 0;
        for (var i = 0; i < reply.Content.Length; i += reply.PieceLength)
        {
            if (pieces++ > 0 && reply.TokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(reply.TokenDelay, context.RequestAborted);
            }

            var piece = reply.Content.Substring(i, Math.Min(reply.PieceLength, reply.Content.Length - i));
            await WriteChunkAsync(context, model, new { content = piece }, null);
        }

        await WriteChunkAsync(context, model, new { }, reply.FinishReason);
        var prompt = reply.PromptTokens ?? messages.Sum(m => (m.Content.Length / 4) + 4);
        var completion = reply.CompletionTokens ?? pieces;
        await WriteAsync(context, JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fake",
            @object = "chat.completion.chunk",
            created = 1_700_000_000,
            model,
            choices = Array.Empty<object>(),
            usage = new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion },
        }));
        await WriteAsync(context, "[DONE]");
    }

    private static async Task BeginStreamAsync(HttpContext context, string model)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await WriteChunkAsync(context, model, new { role = "assistant", content = "" }, null);
    }

    private static Task WriteChunkAsync(HttpContext context, string model, object delta, string? finishReason) =>
        WriteAsync(context, JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fake",
            @object = "chat.completion.chunk",
            created = 1_700_000_000,
            model,
            choices = new[] { new { index = 0, delta, finish_reason = finishReason } },
        }));

    private static async Task WriteAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };
}
