using ChatBot.BotHost.Hosting;
using Microsoft.Extensions.Logging.Console;

if (args is [ChatBot.BotHost.Health.HealthProbe.Verb, ..])
{
    return await ChatBot.BotHost.Health.HealthProbe.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddChatBotHost();
if (ChatBotCommandLine.VerbOf(args) is not null)
{
    // A CLI verb's standard output is its result (search --json is parsed by scripts): logs go to standard error, warnings only.
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}

var app = builder.Build();
app.MapChatBotHost();

return await ChatBotCommandLine.RunAsync(app, args);

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
