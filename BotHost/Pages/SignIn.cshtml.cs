using System.Globalization;
using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Pages;

[AllowAnonymous]
public sealed class SignInModel : PageModel
{
    private readonly AccountService _accounts;
    private readonly AuditLog _audit;

    public SignInModel(AccountService accounts, AuditLog audit, IOptions<EntraOptions> entra)
    {
        _accounts = accounts;
        _audit = audit;
        Entra = entra.Value;
    }

    public EntraOptions Entra { get; }

    [BindProperty]
    public string UserName { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    /// <summary>Where the Microsoft button goes: the challenge, keeping the page the person wanted.</summary>
    public string EntraUrl => EntraSignIn.ChallengePath + (Url.IsLocalUrl(ReturnUrl) ? "?returnUrl=" + Uri.EscapeDataString(ReturnUrl!) : "");

    /// <summary>Errors sent back by the Entra sign-in (<c>?error=</c>).</summary>
    public void OnGet(string? error)
    {
        Error = error switch
        {
            "entra" => "Sign-in with Microsoft did not complete. Try again, or contact your administrator if it keeps failing.",
            "suspended" => "This account is suspended. Contact your administrator.",
            _ => null,
        };
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await _accounts.CheckPasswordAsync(UserName, Password, cancellationToken);
        switch (result.Outcome)
        {
            case SignInOutcome.Succeeded:
                await _audit.WriteAsync(result.User!.DisplayName, result.User.Id, "signin", "user", result.User.Id.ToString(), new { method = "password" }, cancellationToken);
                var principal = AccountService.Principal(result.User!, result.MustChangePassword, CookieAuthenticationDefaults.AuthenticationScheme);
                await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
                if (result.MustChangePassword)
                {
                    return LocalRedirect("/account/password");
                }

                return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
            case SignInOutcome.LockedOut:
                await _audit.WriteAsync(UserName.Trim(), null, "signin.locked_out", "account", null, null, cancellationToken);
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
