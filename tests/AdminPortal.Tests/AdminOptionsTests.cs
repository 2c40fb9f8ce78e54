using ChatBot.AdminPortal.Security;

namespace ChatBot.AdminPortal.Tests;

public sealed class AdminOptionsTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("correct horse battery", true)]
    [InlineData("short", false)]
    public void BootstrapPassword_AbsentOrLongEnough_IsValid(string? password, bool valid)
    {
        var result = new AdminOptionsValidator().Validate(null, new AdminOptions { BootstrapPassword = password });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Admin:BootstrapPassword", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
