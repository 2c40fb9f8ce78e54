using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Webhooks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Webhooks;

/// <summary>Outgoing webhooks: add one (its signing secret shown once), pause, resume or remove it, and the delivery log.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class WebhooksModel(ChatDbContext db, IWebhookRegistry registry, AuditLog audit) : PageModel
{
    public IReadOnlyList<WebhookEndpoint> Endpoints { get; private set; } = [];

    public IReadOnlyList<WebhookDelivery> Deliveries { get; private set; } = [];

    /// <summary>The secret of the webhook just added, shown this once.</summary>
    public string? NewSecret { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Endpoints = await db.WebhookEndpoints.AsNoTracking().OrderBy(e => e.Id).ToListAsync(cancellationToken);
        Deliveries = await db.WebhookDeliveries.AsNoTracking().OrderByDescending(d => d.Id).Take(100).ToListAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAddAsync(string? url, string[]? events, string? description, CancellationToken cancellationToken)
    {
        try
        {
            var (endpoint, secret) = await registry.AddAsync(url ?? "", events ?? [], description, cancellationToken);
            var actor = Actor.Of(User);
            await audit.WriteAsync(actor.Name, actor.UserId, "webhook.added", "webhook", endpoint.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), new { endpoint.Url, endpoint.Events }, cancellationToken);
            await OnGetAsync(cancellationToken);
            NewSecret = secret;
            return Page();
        }
        catch (ArgumentException ex)
        {
            TempData["Error"] = ex.Message.Split(" (Parameter", StringSplitOptions.None)[0];
            return RedirectToPage();
        }
    }

    public Task<IActionResult> OnPostPauseAsync(long id, CancellationToken cancellationToken) => SetEnabledAsync(id, false, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(long id, CancellationToken cancellationToken) => SetEnabledAsync(id, true, cancellationToken);

    public async Task<IActionResult> OnPostRemoveAsync(long id, CancellationToken cancellationToken)
    {
        await db.WebhookDeliveries.Where(d => d.EndpointId == id).ExecuteDeleteAsync(cancellationToken);
        if (await db.WebhookEndpoints.Where(e => e.Id == id).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return NotFound();
        }

        await AuditAsync("webhook.removed", id, cancellationToken);
        return RedirectToPage();
    }

    private async Task<IActionResult> SetEnabledAsync(long id, bool enabled, CancellationToken cancellationToken)
    {
        if (await db.WebhookEndpoints.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.IsEnabled, enabled), cancellationToken) == 0)
        {
            return NotFound();
        }

        await AuditAsync(enabled ? "webhook.resumed" : "webhook.paused", id, cancellationToken);
        return RedirectToPage();
    }

    private Task AuditAsync(string action, long id, CancellationToken cancellationToken)
    {
        var actor = Actor.Of(User);
        return audit.WriteAsync(actor.Name, actor.UserId, action, "webhook", id.ToString(System.Globalization.CultureInfo.InvariantCulture), null, cancellationToken);
    }
}
