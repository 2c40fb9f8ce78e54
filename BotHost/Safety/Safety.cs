using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Safety;

/// <summary>The <c>Safety</c> section: PII masking towards language models, and topics ChatBot will not discuss.</summary>
public sealed class SafetyOptions
{
    public const string SectionName = "Safety";

    /// <summary>Mask emails, phone numbers, card and IBAN-like numbers in what people wrote before it goes to a model.</summary>
    public bool MaskPii { get; set; } = true;

    /// <summary>Words or phrases; a question that contains one gets <see cref="BlockedTopicReply"/> and no model call.</summary>
    public IList<string> BlockedTopics { get; } = [];

    public string BlockedTopicReply { get; set; } = "Sorry — that is a topic I can't help with here. Please ask the team responsible for it directly.";
}

internal sealed class SafetyOptionsValidator : IValidateOptions<SafetyOptions>
{
    public ValidateOptionsResult Validate(string? name, SafetyOptions options)
    {
        if (options.BlockedTopics.Count > 500 || options.BlockedTopics.Any(t => string.IsNullOrWhiteSpace(t) || t.Trim().Length > 100))
        {
            return ValidateOptionsResult.Fail("Safety:BlockedTopics holds at most 500 non-empty topics of up to 100 characters.");
        }

        return string.IsNullOrWhiteSpace(options.BlockedTopicReply) ? ValidateOptionsResult.Fail("Safety:BlockedTopicReply cannot be empty.") : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// Replaces personal data in a text with placeholders: email addresses → [email], IBAN-like account numbers → [iban],
/// card numbers (13–19 digits passing the Luhn check) → [card], phone numbers (8 to 15 digits, as E.164 allows, with
/// +, spaces, dots, dashes or brackets) → [phone]. Dates and ordinary numbers are left alone.
/// </summary>
public static partial class PiiMasker
{
    public static string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = Email().Replace(text, "[email]");
        text = Iban().Replace(text, "[iban]");
        text = CardCandidate().Replace(text, m => Luhn(Digits(m.Value)) ? "[card]" : m.Value);
        return Phone().Replace(text, m => Digits(m.Value).Length is >= 8 and <= 15 && !IsoDate().IsMatch(m.Value.Trim()) ? "[phone]" : m.Value);
    }

    private static string Digits(string text) => new([.. text.Where(char.IsAsciiDigit)]);

    private static bool Luhn(string digits)
    {
        if (digits.Length is < 13 or > 19)
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                d = d > 9 ? d - 9 : d;
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Email();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Iban();

    [GeneratedRegex(@"\b\d(?:[ \-]?\d){12,18}\b", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"(?<![\w\[])\+?\(?\d[\d ()./\-]{6,}\d(?![\w\]])", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Phone();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex IsoDate();
}

/// <summary>Finds a blocked topic in a question: whole words, case-insensitive.</summary>
internal sealed class BlockedTopics(IOptions<SafetyOptions> options)
{
    private readonly Lazy<List<(int Index, Regex Pattern)>> _patterns = new(() =>
        [.. options.Value.BlockedTopics.Select((t, i) => (i, new Regex(@"(?<!\w)" + Regex.Escape(t.Trim()) + @"(?!\w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))))]);

    /// <returns>The index of the first blocked topic the question touches (logged instead of the words), or null.</returns>
    public int? Find(string question) => _patterns.Value.FirstOrDefault(p => p.Pattern.IsMatch(question)) is { Pattern: not null } hit ? hit.Index : null;
}
