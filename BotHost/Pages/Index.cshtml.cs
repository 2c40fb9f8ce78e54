using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ChatBot.BotHost.Pages;

/// <summary>The web chat's shell; the script behind it talks to /api/chat.</summary>
[Authorize]
public sealed class IndexModel : PageModel
{
    public string DisplayName => User.FindFirstValue(ClaimTypes.Name) ?? "";

    public bool IsAdmin => User.IsInRole("Admin") || User.IsInRole("KnowledgeOwner");

    public void OnGet()
    {
    }
}
