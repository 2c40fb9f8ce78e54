using System.Globalization;

namespace ChatBot.AdminPortal;

/// <summary>Costs are stored in micro-dollars; the portal shows dollars.</summary>
public static class Money
{
    public static string Format(long microUsd) => (microUsd / 1_000_000m).ToString("$0.00##", CultureInfo.InvariantCulture);
}
