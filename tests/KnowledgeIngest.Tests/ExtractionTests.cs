using System.Text;
using ChatBot.KnowledgeIngest.Extraction;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Tests;

public sealed class ExtractionTests
{
    private static DocumentExtractor Extractor(Action<KnowledgeOptions>? configure = null)
    {
        var options = new KnowledgeOptions();
        configure?.Invoke(options);
        return new DocumentExtractor(Options.Create(options));
    }

    private static Task<ExtractedDocument> ExtractAsync(byte[] bytes, string fileName, Action<KnowledgeOptions>? configure = null) =>
        Extractor(configure).ExtractAsync(new MemoryStream(bytes), fileName, null, CancellationToken.None);

    private static async Task<string> FailureAsync(byte[] bytes, string fileName, Action<KnowledgeOptions>? configure = null) =>
        (await Assert.ThrowsAsync<ExtractionException>(() => ExtractAsync(bytes, fileName, configure))).Message;

    [Fact]
    public async Task Pdf_KeepsPageNumbersAndTheTitle()
    {
        var pdf = TestFiles.Pdf("Travel Policy", ["Flights over six hours may be booked in business class."], ["Hotels are booked through the travel desk."]);

        var document = await ExtractAsync(pdf, "travel.pdf");

        Assert.Equal("Travel Policy", document.Title);
        Assert.Equal([1, 2], document.Sections.Select(s => s.Page));
        Assert.Contains("business class", document.Sections[0].Text, StringComparison.Ordinal);
        Assert.Contains("travel desk", document.Sections[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_OverThePageLimit_FailsSayingSo()
    {
        var pdf = TestFiles.Pdf(null, ["one"], ["two"], ["three"]);

        var reason = await FailureAsync(pdf, "long.pdf", o => o.MaxPages = 2);

        Assert.Contains("3 pages", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_Encrypted_FailsCleanly()
    {
        var reason = await FailureAsync(TestFiles.EncryptedPdf(), "secret.pdf");

        Assert.Contains("password-protected", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_Truncated_FailsAsDamaged()
    {
        var pdf = TestFiles.Pdf(null, ["some text"]);

        var reason = await FailureAsync(pdf[..(pdf.Length / 3)], "broken.pdf");

        Assert.Contains("damaged", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docx_HeadingsBecomeSectionPaths_IncludingLocalisedStyleIds_AndTablesBecomeRows()
    {
        var docx = TestFiles.Docx(
            null,
            ("Title", "Expense Handbook"),
            ("Heading1", "Travel"),
            (null, "Book trains when the journey is under four hours."),
            ("Heading2", "Meals"),
            (null, "Meals are reimbursed up to the daily allowance."),
            ("berschrift1", "Equipment"),
            (null, "Laptops are replaced every three years."));

        var document = await ExtractAsync(docx, "handbook.docx");

        Assert.Equal("Expense Handbook", document.Title);
        var meals = Assert.Single(document.Sections, s => s.Text.Contains("daily allowance", StringComparison.Ordinal));
        Assert.Equal("Expense Handbook > Travel > Meals", meals.Heading);
        var equipment = Assert.Single(document.Sections, s => s.Text.Contains("Laptops", StringComparison.Ordinal));
        Assert.Equal("Expense Handbook > Equipment", equipment.Heading);
        Assert.Contains("G7 | 95 EUR", equipment.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pptx_SlideNumbersAsPages_TitlesAsHeadings_HiddenSlidesSkipped()
    {
        var pptx = TestFiles.Pptx(("Roadmap", "Launch in March.", false), ("Draft", "Internal only figures.", true), ("Risks", "Supplier delays.", false));

        var document = await ExtractAsync(pptx, "deck.pptx");

        Assert.Equal([1, 3], document.Sections.Select(s => s.Page));
        Assert.Equal(["Roadmap", "Risks"], document.Sections.Select(s => s.Heading));
        Assert.DoesNotContain(document.Sections, s => s.Text.Contains("Internal only", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Xlsx_SheetNamesAsHeadings_RowsLabelledByTheHeader_HiddenSheetsSkipped()
    {
        var xlsx = TestFiles.Xlsx(
            ("Offices", [["City", "Address"], ["Lyon", "12 Rue Garibaldi"]], false),
            ("Salaries", [["Name", "Salary"], ["Ada", "100"]], true));

        var document = await ExtractAsync(xlsx, "offices.xlsx");

        var section = Assert.Single(document.Sections);
        Assert.Equal("Offices", section.Heading);
        Assert.Contains("City: Lyon; Address: 12 Rue Garibaldi", section.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_DropsScriptsNavigationAndFooters_KeepsHeadings()
    {
        const string html = """
            <html><head><title>Onboarding</title><script>var secret = 'do-not-index';</script></head>
            <body><nav>Home | About | Careers</nav>
            <main><h1>First week</h1><p>Collect your badge at reception.</p>
            <h2>Accounts</h2><ul><li>Email is set up on day one.</li></ul><div aria-hidden="true">hidden words</div></main>
            <footer>Copyright footer text</footer></body></html>
            """;

        var document = await ExtractAsync(Encoding.UTF8.GetBytes(html), "onboarding.html");

        var all = string.Join("\n", document.Sections.Select(s => s.Heading + ": " + s.Text));
        Assert.Equal("Onboarding", document.Title);
        Assert.Contains("First week > Accounts: Email is set up on day one.", all, StringComparison.Ordinal);
        Assert.DoesNotContain("do-not-index", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Careers", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Copyright", all, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden words", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Markdown_SectionsByHeading_TablesKeptWhole()
    {
        const string markdown = "# Security\n\nIntro text.\n\n## Passwords\n\nUse a password manager.\n\n| Tool | Use |\n|---|---|\n| Vault | secrets |\n";

        var document = await ExtractAsync(Encoding.UTF8.GetBytes(markdown), "security.md");

        Assert.Equal("Security", document.Title);
        var passwords = Assert.Single(document.Sections, s => s.Heading == "Security > Passwords");
        Assert.Contains("| Vault | secrets |", passwords.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_RowsLabelledByHeader_QuotedFieldsUnderstood()
    {
        var csv = "Name,Role\n\"Lovelace, Ada\",\"Analyst \"\"senior\"\"\"\n";

        var document = await ExtractAsync(Encoding.UTF8.GetBytes(csv), "people.csv");

        Assert.Contains("Name: Lovelace, Ada; Role: Analyst \"senior\"", document.Sections[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_ValuesKeepTheirPaths()
    {
        var json = """{"office": {"city": "Oslo", "desks": 40}, "tags": ["hq"]}""";

        var document = await ExtractAsync(Encoding.UTF8.GetBytes(json), "office.json");

        var text = document.Sections[0].Text;
        Assert.Contains("office.city: Oslo", text, StringComparison.Ordinal);
        Assert.Contains("office.desks: 40", text, StringComparison.Ordinal);
        Assert.Contains("tags[0]: hq", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_Malformed_FailsWithTheLine()
    {
        var reason = await FailureAsync(Encoding.UTF8.GetBytes("{\n\"a\": [1, 2\n"), "bad.json");

        Assert.Contains("not valid", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlainText_ParagraphsSplitOnBlankLines()
    {
        var document = await ExtractAsync(Encoding.UTF8.GetBytes("First paragraph.\r\n\r\nSecond paragraph."), "notes.txt");

        Assert.Equal("First paragraph.\n\nSecond paragraph.", Assert.Single(document.Sections).Text);
    }

    [Fact]
    public async Task BinaryBytesInATextFile_Fail()
    {
        var reason = await FailureAsync([0x41, 0x00, 0x42, 0x00], "data.txt");

        Assert.Contains("binary", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyFile_Fails()
    {
        var reason = await FailureAsync([], "empty.pdf");

        Assert.Contains("empty", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZipBomb_IsRefusedBeforeItIsExpanded()
    {
        var bomb = TestFiles.ZipBomb(64L * 1024 * 1024);

        var reason = await FailureAsync(bomb, "bomb.docx", o => o.MaxExpandedBytes = 16L * 1024 * 1024);

        Assert.True(bomb.Length < 1024 * 1024, $"the bomb is {bomb.Length} bytes");
        Assert.Contains("zip bomb", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HighlyCompressedPart_IsRefusedEvenUnderTheSizeLimit()
    {
        var reason = await FailureAsync(TestFiles.ZipBomb(32L * 1024 * 1024), "bomb.xlsx");

        Assert.Contains("compressed more than", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyArchiveEntries_AreRefused()
    {
        var reason = await FailureAsync(TestFiles.Docx(null, (null, "text")), "many.docx", o => o.MaxArchiveEntries = 2);

        Assert.Contains("parts", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EncryptedOfficeFile_FailsSayingItIsProtected()
    {
        var reason = await FailureAsync(TestFiles.OleFile(), "protected.docx");

        Assert.Contains("password-protected", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorruptOfficeFile_FailsAsDamaged()
    {
        var reason = await FailureAsync(Encoding.UTF8.GetBytes("this is not a zip file at all"), "corrupt.pptx");

        Assert.Contains("damaged", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextOverTheCharacterLimit_Fails()
    {
        var reason = await FailureAsync(Encoding.UTF8.GetBytes(new string('a', 5000)), "big.txt", o => o.MaxExtractedChars = 1000);

        Assert.Contains("characters", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsupportedType_FailsNamingTheSupportedOnes()
    {
        var reason = await FailureAsync([1, 2, 3], "tool.exe");

        Assert.Contains(".pdf", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowExtraction_StopsAtTheTimeLimit()
    {
        // Every look at the clock moves it on 20 seconds: the 2-minute limit passes a few rows in.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(20) };
        var extractor = new DocumentExtractor(Options.Create(new KnowledgeOptions()), clock);
        var csv = "a,b\n" + string.Concat(Enumerable.Repeat("x,y\n", 100));

        var error = await Assert.ThrowsAsync<ExtractionException>(() =>
            extractor.ExtractAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "slow.csv", null, CancellationToken.None));

        Assert.Equal("Reading 'slow.csv' took longer than 120 seconds, the limit.", error.Message);
    }
}
