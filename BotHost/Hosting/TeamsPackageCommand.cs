using ChatBot.Adapters.Teams;
using ChatBot.Adapters.Teams.AppPackage;
using ChatBot.BotHost.Knowledge;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>
/// <c>teams-package --host chatbot.contoso.com [--app-id GUID] [--company NAME] [--privacy-url URL] [--terms-url URL] [--out FILE]</c>:
/// writes the Teams app package (manifest with the app id and host filled in, plus icons) and prints its path.
/// The app id defaults to <c>Teams:AppId</c>.
/// </summary>
internal static class TeamsPackageCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, CommandArguments args, TextWriter output, TextWriter error)
    {
        var appId = args.Option("app-id") ?? services.GetRequiredService<IOptions<TeamsOptions>>().Value.AppId;
        var host = args.Option("host");
        if (string.IsNullOrWhiteSpace(appId) || string.IsNullOrWhiteSpace(host))
        {
            await error.WriteLineAsync("Usage: teams-package --host <public host name> [--app-id <Microsoft App ID>] [--company <name>] [--privacy-url <url>] [--terms-url <url>] [--out <file.zip>]. The app id defaults to Teams:AppId.");
            return 1;
        }

        var settings = new TeamsAppSettings(appId, host, args.Option("company") ?? "Contoso", args.Option("privacy-url"), args.Option("terms-url"));
        var path = Path.GetFullPath(args.Option("out") ?? "chatbot-teams.zip");
        try
        {
            TeamsAppPackage.Manifest(settings); // refuses bad values before a file is created
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync(ex.Message.Split(" (Parameter", 2)[0]);
            return 1;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var file = File.Create(path))
        {
            TeamsAppPackage.Write(settings, file);
        }

        await output.WriteLineAsync(path);
        return 0;
    }
}
