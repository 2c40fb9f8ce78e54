using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Turns;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.Installs;

/// <summary>
/// The bot in one installation: a workspace, or a whole Enterprise Grid org (an org-wide install answers in every
/// workspace of the org with one token).
/// </summary>
/// <param name="TeamId">The workspace the token was issued for (for an org-wide install, the org's id).</param>
/// <param name="EnterpriseId">The Enterprise Grid org, when there is one.</param>
internal sealed record SlackBot(string TeamId, string? EnterpriseId, bool IsEnterpriseInstall, string BotUserId, string BotId, string Token)
{
    /// <summary>The installation's key: the org for an org-wide install, otherwise the workspace.</summary>
    public string InstallationId => IsEnterpriseInstall ? EnterpriseId! : TeamId;

    public override string ToString() => $"SlackBot {InstallationId}"; // never the token
}

/// <summary>
/// Where the bot is installed and with which token. The workspace of <c>Slack:BotToken</c> (asked with
/// <c>auth.test</c> once) comes first; workspaces and orgs installed through OAuth are rows of the host's installation
/// store keyed by org or workspace, their tokens encrypted with ASP.NET Core Data Protection. Lookups are cached for
/// half a minute; uninstalling, a revoked token or an auth error deactivates the installation, and later events for it
/// are dropped.
/// </summary>
internal sealed partial class SlackInstallations : IDisposable
{
    /// <summary>The installation row's conversation key (Slack installs per workspace or org, not per conversation).</summary>
    public const string InstallationKey = "workspace";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private readonly SlackApiClient _api;
    private readonly IChannelInstallations _installations;
    private readonly IOptions<SlackOptions> _options;
    private readonly IDataProtector _protector;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _configuredGate = new(1, 1);
    private readonly ConcurrentDictionary<string, (SlackBot? Bot, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    private SlackBot? _configured;

    public SlackInstallations(
        SlackApiClient api,
        IChannelInstallations installations,
        IOptions<SlackOptions> options,
        IDataProtectionProvider dataProtection,
        TimeProvider clock,
        ILogger<SlackInstallations> logger)
    {
        ArgumentNullException.ThrowIfNull(dataProtection);
        _api = api;
        _installations = installations;
        _options = options;
        _protector = dataProtection.CreateProtector("ChatBot.Slack.BotToken.v1");
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// The installation that serves a workspace (the workspace's own, else its org's org-wide one), or null when the
    /// bot is not installed there (never installed, uninstalled, token revoked).
    /// </summary>
    public async Task<SlackBot?> FindAsync(string? enterpriseId, string? teamId, CancellationToken cancellationToken)
    {
        if (teamId is null && enterpriseId is null)
        {
            return null;
        }

        var key = $"{enterpriseId}|{teamId}";
        var now = _clock.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Until > now)
        {
            return cached.Bot;
        }

        var bot = await LookUpAsync(enterpriseId, teamId, cancellationToken);
        _cache[key] = (bot, now + CacheFor);
        return bot;
    }

    /// <summary>The installation a stored reply address belongs to; throws <c>not_installed</c> when it is gone.</summary>
    public async Task<SlackBot> ForAddressAsync(IReadOnlyDictionary<string, string> address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var enterpriseId = address.GetValueOrDefault(Events.SlackAddress.EnterpriseId) is { Length: > 0 } e ? e : null;
        return await FindAsync(enterpriseId, address.GetValueOrDefault(Events.SlackAddress.TeamId), cancellationToken)
            ?? throw new SlackApiException("installation", "not_installed");
    }

    /// <summary>Stores an installation from the OAuth flow (a reinstall replaces the token) and returns it.</summary>
    public async Task<SlackBot> SaveAsync(SlackBot bot, string? teamName, string? installerUserId, string scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var address = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [StoredKeys.Token] = _protector.Protect(bot.Token),
            [StoredKeys.TeamId] = bot.TeamId,
            [StoredKeys.EnterpriseId] = bot.EnterpriseId ?? "",
            [StoredKeys.IsEnterpriseInstall] = bot.IsEnterpriseInstall ? "true" : "false",
            [StoredKeys.BotUserId] = bot.BotUserId,
            [StoredKeys.BotId] = bot.BotId,
            [StoredKeys.TeamName] = teamName ?? "",
            [StoredKeys.InstalledBy] = installerUserId ?? "",
            [StoredKeys.Scopes] = scopes,
            [StoredKeys.InstalledAt] = _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        };
        await _installations.InstalledAsync(
            new ChannelInstallation(ChannelKind.Slack, bot.InstallationId, InstallationKey, ConversationType.Channel, address), cancellationToken);
        _cache.Clear();
        Log.Installed(_logger, bot.InstallationId, bot.IsEnterpriseInstall);
        return bot;
    }

    /// <summary>The app was uninstalled or its token stopped working: nothing more is sent or accepted for it.</summary>
    public async Task DeactivateAsync(SlackBot bot, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bot);
        await _installations.RemovedAsync(ChannelKind.Slack, bot.InstallationId, InstallationKey, cancellationToken);
        _cache.Clear();
        Log.Deactivated(_logger, bot.InstallationId, reason);
    }

    private async Task<SlackBot?> LookUpAsync(string? enterpriseId, string? teamId, CancellationToken cancellationToken)
    {
        if (await ConfiguredAsync(cancellationToken) is { } configured
            && (configured.TeamId == teamId || (configured.IsEnterpriseInstall && configured.EnterpriseId == enterpriseId)))
        {
            return await _installations.IsRemovedAsync(ChannelKind.Slack, configured.InstallationId, InstallationKey, cancellationToken) ? null : configured;
        }

        if (teamId is not null && await StoredAsync(teamId, cancellationToken) is { } workspace)
        {
            return workspace;
        }

        return enterpriseId is not null && await StoredAsync(enterpriseId, cancellationToken) is { IsEnterpriseInstall: true } org ? org : null;
    }

    /// <summary>
    /// The workspace of <c>Slack:BotToken</c>, learned with <c>auth.test</c> once per process. A token that works means
    /// the app is installed: an installation removed earlier (uninstall, revoked token) is active again.
    /// </summary>
    private async Task<SlackBot?> ConfiguredAsync(CancellationToken cancellationToken)
    {
        var token = _options.Value.BotToken;
        if (string.IsNullOrWhiteSpace(token))
        {
            return null;
        }

        if (_configured is { } known)
        {
            return known;
        }

        await _configuredGate.WaitAsync(cancellationToken);
        try
        {
            if (_configured is null)
            {
                var auth = await _api.CallAsync(token, "auth.test", new Dictionary<string, object?>(), cancellationToken);
                var bot = FromAuthTest(auth, token);
                await _installations.InstalledAsync(
                    new ChannelInstallation(ChannelKind.Slack, bot.InstallationId, InstallationKey, ConversationType.Channel, new Dictionary<string, string>()),
                    cancellationToken);
                _configured = bot;
            }

            return _configured;
        }
        finally
        {
            _configuredGate.Release();
        }
    }

    /// <summary>Who a token belongs to, from its <c>auth.test</c> answer.</summary>
    public static SlackBot FromAuthTest(JsonObject auth, string token)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var enterprise = (string?)auth["enterprise_id"] is { Length: > 0 } e ? e : null;
        var isOrgInstall = (bool?)auth["is_enterprise_install"] == true && enterprise is not null;
        return new SlackBot(
            isOrgInstall ? enterprise! : (string)auth["team_id"]!,
            enterprise,
            isOrgInstall,
            (string)auth["user_id"]!,
            (string?)auth["bot_id"] ?? "",
            token);
    }

    private async Task<SlackBot?> StoredAsync(string installationId, CancellationToken cancellationToken)
    {
        var row = await _installations.FindAsync(ChannelKind.Slack, installationId, InstallationKey, cancellationToken);
        if (row?.Address.GetValueOrDefault(StoredKeys.Token) is not { Length: > 0 } protectedToken)
        {
            return null;
        }

        string token;
        try
        {
            token = _protector.Unprotect(protectedToken);
        }
        catch (CryptographicException)
        {
            // The Data Protection keys that encrypted it are gone: the workspace has to install the app again.
            Log.TokenUnreadable(_logger, installationId);
            return null;
        }

        var a = row.Address;
        return new SlackBot(
            a.GetValueOrDefault(StoredKeys.TeamId) ?? installationId,
            a.GetValueOrDefault(StoredKeys.EnterpriseId) is { Length: > 0 } e ? e : null,
            a.GetValueOrDefault(StoredKeys.IsEnterpriseInstall) == "true",
            a.GetValueOrDefault(StoredKeys.BotUserId) ?? "",
            a.GetValueOrDefault(StoredKeys.BotId) ?? "",
            token);
    }

    public void Dispose() => _configuredGate.Dispose();

    /// <summary>What an installation row holds (the token encrypted).</summary>
    private static class StoredKeys
    {
        public const string Token = "botToken";
        public const string TeamId = "teamId";
        public const string EnterpriseId = "enterpriseId";
        public const string IsEnterpriseInstall = "isEnterpriseInstall";
        public const string BotUserId = "botUserId";
        public const string BotId = "botId";
        public const string TeamName = "teamName";
        public const string InstalledBy = "installedBy";
        public const string Scopes = "scopes";
        public const string InstalledAt = "installedAt";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 840, Level = LogLevel.Information, Message = "ChatBot was installed in Slack {InstallationId} (org-wide: {OrgWide})")]
        public static partial void Installed(ILogger logger, string installationId, bool orgWide);

        [LoggerMessage(EventId = 841, Level = LogLevel.Warning, Message = "The Slack installation {InstallationId} is deactivated: {Reason}")]
        public static partial void Deactivated(ILogger logger, string installationId, string reason);

        [LoggerMessage(EventId = 842, Level = LogLevel.Error, Message = "The bot token of Slack installation {InstallationId} cannot be decrypted (Data Protection keys lost?); install the app there again")]
        public static partial void TokenUnreadable(ILogger logger, string installationId);
    }
}

/// <summary>
/// The Web API as the bot of one installation: its token on every call; an auth error (revoked or invalid token)
/// deactivates the installation before the error goes on.
/// </summary>
internal sealed class SlackBotApi(SlackApiClient api, SlackInstallations installations)
{
    public async Task<JsonObject> CallAsync(SlackBot bot, string method, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bot);
        try
        {
            return await api.CallAsync(bot.Token, method, arguments, cancellationToken);
        }
        catch (SlackApiException ex) when (ex.IsAuthError)
        {
            await installations.DeactivateAsync(bot, ex.Error, CancellationToken.None);
            throw;
        }
    }

    public Task<SlackBot> BotAsync(IReadOnlyDictionary<string, string> address, CancellationToken cancellationToken) =>
        installations.ForAddressAsync(address, cancellationToken);

    /// <summary>The same, for the installation a stored reply address belongs to.</summary>
    public async Task<JsonObject> CallAsync(IReadOnlyDictionary<string, string> address, string method, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken) =>
        await CallAsync(await installations.ForAddressAsync(address, cancellationToken), method, arguments, cancellationToken);

    public Task PostToResponseUrlAsync(string responseUrl, JsonObject message, CancellationToken cancellationToken) =>
        api.PostToResponseUrlAsync(responseUrl, message, cancellationToken);
}
