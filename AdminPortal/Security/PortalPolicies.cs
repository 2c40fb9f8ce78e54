namespace ChatBot.AdminPortal.Security;

/// <summary>
/// Who may open which part of the portal: admins everything; knowledge owners Documents and Sources only; everyone
/// else nothing. Every page model carries one of these policies (a test enumerates the routes to prove it).
/// </summary>
public static class PortalPolicies
{
    public const string Admin = "portal-admin";
    public const string Knowledge = "portal-knowledge";

    /// <summary>The role claim values (<c>UserRole</c> names) the policies ask for.</summary>
    public const string AdminRole = "Admin";
    public const string KnowledgeOwnerRole = "KnowledgeOwner";
}
