using ChatBot.BotHost.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddChatBotHost();

var app = builder.Build();
app.MapChatBotHost();

return await ChatBotCommandLine.RunAsync(app, args);

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
