using System.ComponentModel.DataAnnotations;
using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ChatBot.AdminPortal.Pages.Users;

/// <summary>A local account (user name and password) for someone without Entra ID; they change the password at first sign-in.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class NewUserModel(IPortalAccounts accounts, AuditLog audit) : PageModel
{
    [BindProperty, Required, StringLength(64, MinimumLength = 2), RegularExpression("^[A-Za-z0-9._@-]+$", ErrorMessage = "Letters, digits and . _ @ - only.")]
    public string UserName { get; set; } = "";

    [BindProperty, Required, StringLength(200)]
    public string DisplayName { get; set; } = "";

    [BindProperty, EmailAddress, StringLength(320)]
    public string? Email { get; set; }

    [BindProperty]
    public UserRole Role { get; set; } = UserRole.User;

    [BindProperty, Required, DataType(DataType.Password)]
    public string Password { get; set; } = "";

    public int MinimumPasswordLength => accounts.MinimumPasswordLength;

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(Role))
        {
            ModelState.AddModelError(nameof(Role), "Unknown role.");
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        var (userId, error) = await accounts.CreateAsync(UserName.Trim(), DisplayName.Trim(), string.IsNullOrWhiteSpace(Email) ? null : Email.Trim(), Role, Password, cancellationToken);
        if (userId is null)
        {
            ModelState.AddModelError(string.Empty, error ?? "The account could not be created.");
            return Page();
        }

        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "user.created", "user", userId.Value.ToString(), new { userName = UserName.Trim(), role = Role.ToString() }, cancellationToken);
        TempData["Notice"] = $"Created {DisplayName.Trim()}. They choose their own password at first sign-in.";
        return Redirect($"/admin/users/{userId}");
    }
}
