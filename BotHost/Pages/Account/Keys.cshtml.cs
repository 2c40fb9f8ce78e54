using System.Security.Claims;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ChatBot.BotHost.Pages.Account;

/// <summary>
/// A person's API keys, from the web chat's settings: create one (scopes their role allows, an expiry), see it once,
/// revoke any. Keys act as their owner with the owner's quotas; creations and revocations are audited.
/// </summary>
[Authorize]
public sealed class KeysModel(ApiKeys keys, AuditLog audit) : PageModel
{
    public IReadOnlyList<ApiKeyView> Keys { get; private set; } = [];

    /// <summary>The key just created, shown this once.</summary>
    public string? NewKey { get; private set; }

    public string? Error { get; private set; }

    public IReadOnlyList<string> AllowedScopes =>
        User.IsInRole("Admin") ? ApiScopes.All
        : User.IsInRole("KnowledgeOwner") ? [ApiScopes.Chat, ApiScopes.Documents]
        : [ApiScopes.Chat];

    private Guid UserId => Guid.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!);

    public async Task OnGetAsync(CancellationToken cancellationToken) => Keys = await keys.ListAsync(UserId, cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(string? name, string[]? scopes, int? expiresDays, CancellationToken cancellationToken)
    {
        var wanted = (scopes ?? []).Where(s => AllowedScopes.Contains(s, StringComparer.Ordinal)).ToList();
        try
        {
            var (key, secret) = await keys.CreateAsync(UserId, string.IsNullOrWhiteSpace(name) ? "my key" : name.Trim()[..Math.Min(name.Trim().Length, 100)], wanted, expiresDays, UserId, cancellationToken);
            await audit.WriteAsync(User.Identity?.Name ?? "", UserId, "apikey.created", "user", UserId.ToString(), new { key.Prefix, key.Scopes, key.ExpiresAt }, cancellationToken);
            NewKey = secret;
        }
        catch (ArgumentException ex)
        {
            Error = ex.Message.Split(" (Parameter", StringSplitOptions.None)[0];
        }

        Keys = await keys.ListAsync(UserId, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await keys.RevokeAsync(id, UserId, cancellationToken))
        {
            await audit.WriteAsync(User.Identity?.Name ?? "", UserId, "apikey.revoked", "user", UserId.ToString(), new { key = id }, cancellationToken);
        }

        return RedirectToPage();
    }
}
