namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>One section of a document: its heading path ("Policies > Travel"), its page or slide, and its text.</summary>
public sealed record ExtractedSection(string? Heading, int? Page, string Text);

/// <summary>The text of a document in reading order, split where its structure splits it.</summary>
public sealed record ExtractedDocument(string? Title, IReadOnlyList<ExtractedSection> Sections)
{
    public int Characters => Sections.Sum(s => s.Text.Length);
}

/// <summary>The file cannot be read and never will be (corrupt, encrypted, over a limit). The message is for people.</summary>
public sealed class ExtractionException : Exception
{
    public ExtractionException(string message)
        : base(message)
    {
    }

    public ExtractionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ExtractionException()
    {
    }
}

/// <summary>The limits one extraction runs under (from <see cref="KnowledgeOptions"/>).</summary>
/// <param name="Expired">Whether the extraction has run past its time limit; checked between paragraphs.</param>
public sealed record ExtractionLimits(int MaxPages, int MaxArchiveEntries, long MaxExpandedBytes, int MaxExtractedChars, Func<bool>? Expired = null)
{
    public static ExtractionLimits From(KnowledgeOptions o, Func<bool>? expired = null) =>
        new(o.MaxPages, o.MaxArchiveEntries, o.MaxExpandedBytes, o.MaxExtractedChars, expired);
}

/// <summary>
/// Collects sections while an extractor walks a document: keeps the heading path, merges text under one heading,
/// and stops the extraction once the character limit is passed.
/// </summary>
internal sealed class SectionWriter(ExtractionLimits limits)
{
    private readonly List<ExtractedSection> _sections = [];
    private readonly List<(int Level, string Text)> _headings = [];
    private readonly System.Text.StringBuilder _text = new();
    private int? _page;
    private int _characters;

    public string? Title { get; set; }

    public string? CurrentHeading => _headings.Count == 0 ? null : string.Join(" > ", _headings.Select(h => h.Text));

    /// <summary>Starts a new section under a heading of the given level (1 = top).</summary>
    public void Heading(int level, string text)
    {
        text = Normalize(text);
        if (text.Length == 0)
        {
            return;
        }

        Flush();
        _headings.RemoveAll(h => h.Level >= level);
        _headings.Add((level, text.Length > 200 ? text[..200] : text));
    }

    /// <summary>Starts a new page or slide: a new section that keeps no heading of the previous page.</summary>
    public void Page(int page, string? heading = null)
    {
        Flush();
        _page = page;
        _headings.Clear();
        if (!string.IsNullOrWhiteSpace(heading))
        {
            _headings.Add((1, Normalize(heading)));
        }
    }

    /// <summary>Adds a paragraph (a blank line separates paragraphs, which the chunker cuts on).</summary>
    public void Paragraph(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return;
        }

        if (limits.Expired?.Invoke() == true)
        {
            throw new OperationCanceledException("The extraction ran past its time limit.");
        }

        _characters += text.Length;
        if (_characters > limits.MaxExtractedChars)
        {
            throw new ExtractionException($"The document has more than {limits.MaxExtractedChars:N0} characters of text, the limit.");
        }

        if (_text.Length > 0)
        {
            _text.Append("\n\n");
        }

        _text.Append(text);
    }

    public ExtractedDocument Build()
    {
        Flush();
        return new ExtractedDocument(string.IsNullOrWhiteSpace(Title) ? null : Normalize(Title), _sections);
    }

    private void Flush()
    {
        if (_text.Length > 0)
        {
            _sections.Add(new ExtractedSection(CurrentHeading, _page, _text.ToString()));
            _text.Clear();
        }
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
