using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams.Connector;

/// <summary>
/// The bot's own token for the Bot Connector: OAuth client credentials at <c>Teams:TokenEndpoint</c> (the
/// <c>botframework.com</c> tenant for multi-tenant bots, <c>Teams:TenantId</c> for single-tenant ones), scope
/// <c>https://api.botframework.com/.default</c>, cached until five minutes before it expires; one request at a time.
/// </summary>
internal sealed class BotTokenClient(HttpClient http, IOptions<TeamsOptions> options, TimeProvider clock) : IDisposable
{
    private static readonly TimeSpan EarlyRenewal = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _renewAt;

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && clock.GetUtcNow() < _renewAt)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_token is { } fresh && clock.GetUtcNow() < _renewAt)
            {
                return fresh;
            }

            var teams = options.Value;
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = teams.AppId!,
                ["client_secret"] = teams.AppPassword!,
                ["scope"] = teams.ConnectorScope,
            });
            using var response = await http.PostAsync(new Uri(TokenEndpoint(teams)), form, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                // The body may name the app or tenant; the status is enough for the log.
                throw new ConnectorException((int)response.StatusCode, "TokenRequestFailed", $"The bot token request failed with status {(int)response.StatusCode}.");
            }

            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
                ?? throw new ConnectorException(502, "TokenRequestFailed", "The token endpoint returned no token.");
            _token = token.AccessToken;
            _renewAt = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(60, token.ExpiresIn)) - EarlyRenewal;
            return token.AccessToken;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Single-tenant bots ask their own tenant (asking botframework.com fails with AADSTS700016).</summary>
    internal static string TokenEndpoint(TeamsOptions teams) =>
        !string.IsNullOrWhiteSpace(teams.TenantId) && teams.TokenEndpoint == TeamsOptions.BotFrameworkTokenEndpoint
            ? teams.TokenEndpoint.Replace("/botframework.com/", $"/{Uri.EscapeDataString(teams.TenantId)}/", StringComparison.Ordinal)
            : teams.TokenEndpoint;

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
