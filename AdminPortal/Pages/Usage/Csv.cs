using System.Text;

namespace ChatBot.AdminPortal.Pages.Usage;

/// <summary>
/// RFC 4180 CSV that is safe to open in a spreadsheet: text cells that a spreadsheet would run as a formula (starting
/// with = + - @, a tab or a carriage return) are prefixed with an apostrophe, as OWASP recommends.
/// </summary>
public static class Csv
{
    public static string Line(IEnumerable<string?> cells) => string.Join(',', cells.Select(Cell)) + "\r\n";

    public static string Cell(string? value)
    {
        var text = value ?? "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    public static byte[] Utf8WithBom(StringBuilder text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text.ToString())];
    }
}
