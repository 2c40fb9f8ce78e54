using System.Security.Claims;
using ChatBot.BotHost.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ChatBot.BotHost.Pages.Account;

[Authorize]
public sealed class PasswordModel : PageModel
{
    private readonly AccountService _accounts;

    public PasswordModel(AccountService accounts) => _accounts = accounts;

    [BindProperty]
    public string CurrentPassword { get; set; } = "";

    [BindProperty]
    public string NewPassword { get; set; } = "";

    public string? Error { get; private set; }

    public bool MustChange => User.HasClaim(AccountService.MustChangePasswordClaim, "true");

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var userId = Guid.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!);
        if (!await _accounts.ChangePasswordAsync(userId, CurrentPassword, NewPassword, cancellationToken))
        {
            Error = $"The current password is wrong, or the new one is shorter than {AccountService.MinimumPasswordLength} characters or the same as before.";
            return Page();
        }

        // A fresh cookie without the must-change mark.
        var claims = User.Claims.Where(c => c.Type != AccountService.MustChangePasswordClaim);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme));
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        return LocalRedirect("/");
    }
}
