using System.Security.Claims;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Accounts;

/// <summary>
/// Keeps a signed-in session in step with the user's row: a role changed in the portal applies at the next request
/// (not when the 12-hour cookie runs out), a suspended person keeps no privileges (the chat tells them they are
/// suspended; the portal refuses them), and a deleted user is signed out. One primary-key read per request.
/// </summary>
internal static class CookiePrincipalRefresh
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (!Guid.TryParse(principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var userId))
        {
            context.RejectPrincipal();
            return;
        }

        var contexts = context.HttpContext.RequestServices.GetRequiredService<IDbContextFactory<ChatDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(context.HttpContext.RequestAborted);
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new { u.Role, u.IsSuspended })
            .SingleOrDefaultAsync(context.HttpContext.RequestAborted);
        if (user is null)
        {
            context.RejectPrincipal();
            return;
        }

        var role = (user.IsSuspended ? UserRole.User : user.Role).ToString();
        if (principal!.FindFirstValue(ClaimTypes.Role) == role)
        {
            return;
        }

        var identity = new ClaimsIdentity(principal.Claims.Where(c => c.Type != ClaimTypes.Role), principal.Identity?.AuthenticationType);
        identity.AddClaim(new Claim(ClaimTypes.Role, role));
        context.ReplacePrincipal(new ClaimsPrincipal(identity));
        context.ShouldRenew = true;
    }
}
