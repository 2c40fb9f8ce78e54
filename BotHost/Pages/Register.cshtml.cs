using ChatBot.BotHost.Accounts;
using ChatBot.BotHost.WebChat;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Pages;

/// <summary>Self-registration for people whose email domain is in WebChat:SelfRegistrationDomains; 404 when none is.</summary>
[AllowAnonymous]
public sealed class RegisterModel : PageModel
{
    private readonly AccountService _accounts;
    private readonly IOptions<WebChatOptions> _options;

    public RegisterModel(AccountService accounts, IOptions<WebChatOptions> options)
    {
        _accounts = accounts;
        _options = options;
    }

    [BindProperty]
    public string Email { get; set; } = "";

    [BindProperty]
    public string DisplayName { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    public string? Error { get; private set; }

    public IActionResult OnGet() => _options.Value.SelfRegistrationDomains.Count == 0 ? NotFound() : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (_options.Value.SelfRegistrationDomains.Count == 0)
        {
            return NotFound();
        }

        var email = Email.Trim();
        Password = Password ?? "";
        if (!_options.Value.AllowsSelfRegistration(email))
        {
            Error = "Accounts can be created here only with a company email address. Ask your administrator.";
        }
        else if (string.IsNullOrWhiteSpace(DisplayName) || DisplayName.Length > 200)
        {
            Error = "Tell us your name (up to 200 characters).";
        }
        else if (Password.Length < AccountService.MinimumPasswordLength)
        {
            Error = $"Choose a password of at least {AccountService.MinimumPasswordLength} characters.";
        }
        else
        {
            try
            {
                // The address is not verified, so it is only the user name: it must never link this account to the
                // Teams or Slack identity (and history) of whoever really owns it.
                var user = await _accounts.CreateLocalAsync(email, DisplayName.Trim(), email: null, UserRole.User, Password, mustChangePassword: false, cancellationToken);
                await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, AccountService.Principal(user, false, CookieAuthenticationDefaults.AuthenticationScheme));
                return LocalRedirect("/");
            }
            catch (DbUpdateException)
            {
                Error = "There is already an account for this email address. Sign in instead.";
            }
        }

        Password = "";
        return Page();
    }
}
