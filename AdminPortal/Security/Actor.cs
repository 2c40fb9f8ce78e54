using System.Security.Claims;

namespace ChatBot.AdminPortal.Security;

/// <summary>Who is doing something in the portal, for the audit log.</summary>
public sealed record Actor(string Name, Guid? UserId)
{
    public static Actor Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Actor(
            user.Identity?.Name ?? "unknown",
            Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null);
    }
}
