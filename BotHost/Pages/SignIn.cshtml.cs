using System.Globalization;
using ChatBot.BotHost.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ChatBot.BotHost.Pages;

[AllowAnonymous]
public sealed class SignInModel : PageModel
{
    private readonly AccountService _accounts;

    public SignInModel(AccountService accounts) => _accounts = accounts;

    [BindProperty]
    public string UserName { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await _accounts.CheckPasswordAsync(UserName, Password, cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.Succeeded:
                var principal = AccountService.Principal(result.User!, result.MustChangePassword, CookieAuthenticationDefaults.AuthenticationScheme);
                await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
                if (result.MustChangePassword)
                {
                    return LocalRedirect("/account/password");
                }

                return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
            case SignInOutcome.LockedOut:
                Error = string.Format(CultureInfo.InvariantCulture, "Too many failed attempts. This account is locked until {0:HH:mm} UTC.", result.LockedUntil);
                break;
            case SignInOutcome.Suspended:
                Error = "This account is suspended. Contact your administrator.";
                break;
            default:
                Error = "That user name and password do not match.";
                break;
        }

        Password = "";
        return Page();
    }
}
