using System.Globalization;
using System.Text.Json;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// The <c>ingest</c> and <c>search</c> verbs: the server's configuration and database, no web server.
/// <c>ingest</c> runs the ingestion jobs in this process and waits for them (a running server may take some first;
/// then it waits for those). <c>search --json</c> prints one JSON object per line, a format other tools script against.
/// </summary>
internal static class KnowledgeCommands
{
    public const string IngestUsage = "Usage: ingest <file|folder> [--scope org|channel:<id>|conversation:<id>|user:<email>,group:<id>,...] [--title <title>]";

    public const string SearchUsage = "Usage: search \"<query>\" [--as <email>] [--top N] [--json]";

    public const string SyncUsage = "Usage: sync [--source <SiteUrl>]   (SharePoint: one delta pass of each configured source, or of the one named)";

    // Not HTML: keep "<", ">", "&" and non-ASCII text readable instead of \u escapes.
    private static readonly JsonSerializerOptions JsonLines = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> IngestAsync(IServiceProvider services, CommandArguments arguments, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments.Positional.Count != 1 || !TryParseScope(arguments.Option("scope") ?? "org", out var scope, out var scopeKey, out var principals))
        {
            await errors.WriteLineAsync(IngestUsage);
            return 1;
        }

        var target = Path.GetFullPath(arguments.Positional[0]);
        var files = File.Exists(target) ? [target]
            : Directory.Exists(target) ? Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : null;
        if (files is null)
        {
            await errors.WriteLineAsync($"'{arguments.Positional[0]}' is neither a file nor a folder.");
            return 1;
        }

        var supported = files.Where(f => DocumentFormats.TryDetect(f, null, out _, out _)).ToList();
        foreach (var skipped in files.Except(supported))
        {
            await output.WriteLineAsync($"skipped  {Path.GetRelativePath(Environment.CurrentDirectory, skipped)} (not a supported type)");
        }

        var intake = services.GetRequiredService<DocumentIntake>();
        var progress = new ProgressBar(errors, supported.Count);
        var outcomes = new List<(string File, Guid? Id, string Outcome)>();
        foreach (var file in supported)
        {
            var name = Path.GetFileName(file);
            progress.Show(outcomes.Count, name);
            try
            {
                await using var content = File.OpenRead(file);
                var upload = new DocumentUpload(name, DocumentSource.Cli, scope, scopeKey, principals,
                    Title: supported.Count == 1 ? arguments.Option("title") : null, SourceKey: "cli:" + file);
                var result = await intake.AddAsync(upload, content, cancellationToken);
                if (!result.IsUnchanged)
                {
                    using var scopeOfJob = services.CreateScope();
                    await scopeOfJob.ServiceProvider.GetRequiredService<IngestionJob>().RunAsync(result.DocumentId, result.Version, cancellationToken);
                }

                outcomes.Add((file, result.DocumentId, result.IsUnchanged && result.Status == DocumentStatus.Ready ? "unchanged" : ""));
            }
            catch (DocumentRejectedException ex)
            {
                outcomes.Add((file, null, "refused: " + ex.Message));
            }
        }

        progress.Show(outcomes.Count, "waiting for indexing");
        var final = await WaitForAsync(services, outcomes.Where(o => o.Id is not null).Select(o => o.Id!.Value).ToList(), cancellationToken);
        progress.Done();

        var failed = 0;
        foreach (var (file, id, outcome) in outcomes)
        {
            var line = outcome;
            if (id is Guid documentId && final.TryGetValue(documentId, out var document))
            {
                line = document.Status switch
                {
                    DocumentStatus.Ready => $"{(outcome == "unchanged" ? "unchanged" : "indexed")} ({document.ChunkCount} passage{(document.ChunkCount == 1 ? "" : "s")}) {document.Id}",
                    DocumentStatus.Failed => "failed: " + document.FailureReason,
                    _ => "still " + document.Status.ToString().ToLowerInvariant() + " (a server will finish it)",
                };
            }

            failed += line.StartsWith("failed", StringComparison.Ordinal) || line.StartsWith("refused", StringComparison.Ordinal) ? 1 : 0;
            await output.WriteLineAsync($"{Path.GetRelativePath(Environment.CurrentDirectory, file)}: {line}");
        }

        await output.WriteLineAsync($"{outcomes.Count} document(s): {outcomes.Count - failed} ready, {failed} failed.");
        return failed == 0 ? 0 : 1;
    }

    public static async Task<int> SearchAsync(IServiceProvider services, CommandArguments arguments, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var topText = arguments.Option("top") ?? "5";
        if (arguments.Positional.Count != 1 || !int.TryParse(topText, CultureInfo.InvariantCulture, out var top) || top is < 1 or > 100)
        {
            await errors.WriteLineAsync(SearchUsage);
            return 1;
        }

        var asEmail = arguments.Option("as");
        var userId = Guid.Empty;
        if (asEmail is not null)
        {
            var contexts = services.GetRequiredService<IDbContextFactory<ChatDbContext>>();
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var normalized = ChatData.Users.User.Normalize(asEmail);
            var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
            userId = user?.Id ?? Guid.Empty; // an email nobody has used yet still has its restricted documents
        }

        // As the user in a personal chat (their own restricted documents count); without --as, organisation documents only.
        var request = new RetrievalRequest(arguments.Positional[0], userId, asEmail, Guid.NewGuid(), IsSharedConversation: asEmail is null, [], top);
        var passages = await services.GetRequiredService<IKnowledgeRetriever>().RetrieveAsync(request, cancellationToken);
        var rank = 0;
        foreach (var p in passages)
        {
            rank++;
            if (arguments.Flag("json"))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new SearchLine(rank, p.Score, p.DocumentId, p.Title, p.Source ?? p.Url ?? "", p.Page, p.Section, p.Text),
                    JsonLines));
            }
            else
            {
                var where = string.Join(", ", new[] { p.Section, p.Page is int page ? $"p. {page}" : null }.Where(s => s is not null));
                await output.WriteLineAsync($"{rank}. [{p.Score:0.000}] {p.Title}{(where.Length > 0 ? " — " + where : "")}  ({p.Source})");
                await output.WriteLineAsync("   " + Snippet(p.Text));
            }
        }

        if (passages.Count == 0 && !arguments.Flag("json"))
        {
            await output.WriteLineAsync("Nothing relevant found.");
        }

        return 0;
    }

    /// <summary>
    /// One sync pass of every enabled SharePoint source (or the one whose site URL is given), then the documents it
    /// queued are indexed here. Prints what was added, changed, removed and skipped; exit code 1 when a source failed.
    /// </summary>
    public static async Task<int> SyncAsync(IServiceProvider services, CommandArguments arguments, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments.Positional.Count != 0)
        {
            await errors.WriteLineAsync(SyncUsage);
            return 1;
        }

        if (!services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GraphOptions>>().Value.Enabled)
        {
            await errors.WriteLineAsync("SharePoint sync needs Graph:TenantId, Graph:ClientId and Graph:ClientSecret.");
            return 1;
        }

        var wanted = arguments.Option("source")?.Trim().TrimEnd('/');
        var sources = (await services.GetRequiredService<SharePointSources>().ApplyConfigurationAsync(cancellationToken))
            .Where(s => wanted is null || string.Equals(s.SiteUrl, wanted, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (sources.Count == 0)
        {
            await errors.WriteLineAsync(wanted is null ? "No SharePoint sources: add them under SharePoint:Sites or in the portal." : $"No enabled SharePoint source has the site URL {wanted}.");
            return 1;
        }

        var sync = services.GetRequiredService<SharePointSync>();
        var failed = 0;
        foreach (var source in sources)
        {
            try
            {
                var report = await sync.SyncAsync(source.Id, cancellationToken);
                await output.WriteLineAsync($"{report.Source}: {report.Added} added, {report.Changed} changed, {report.Removed} removed, {report.Skipped} skipped ({report.Pages} page{(report.Pages == 1 ? "" : "s")}{(report.FullEnumeration ? ", full enumeration" : "")})");
                foreach (var skipped in report.SkippedFiles)
                {
                    await output.WriteLineAsync("  skipped  " + skipped);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed++;
                var reason = await LastErrorAsync(services, source.Id, cancellationToken) ?? ex.Message;
                await output.WriteLineAsync($"{source.DisplayName}: failed: {reason}");
            }
        }

        // Index what the passes queued, here (a running server may take some first; then this waits for those).
        var pending = await PendingSharePointDocumentsAsync(services, cancellationToken);
        foreach (var (id, version) in pending)
        {
            using var scopeOfJob = services.CreateScope();
            await scopeOfJob.ServiceProvider.GetRequiredService<IngestionJob>().RunAsync(id, version, cancellationToken);
        }

        var final = await WaitForAsync(services, [.. pending.Select(p => p.Id)], cancellationToken);
        var notReady = final.Values.Where(d => d.Status == DocumentStatus.Failed).ToList();
        foreach (var document in notReady)
        {
            await output.WriteLineAsync($"  failed   {document.Title}: {document.FailureReason}");
        }

        return failed == 0 && notReady.Count == 0 ? 0 : 1;
    }

    private static async Task<string?> LastErrorAsync(IServiceProvider services, long sourceId, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync(cancellationToken);
        return await db.SharePointSources.Where(s => s.Id == sourceId).Select(s => s.LastError).FirstOrDefaultAsync(cancellationToken);
    }

    private static async Task<List<(Guid Id, int Version)>> PendingSharePointDocumentsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync(cancellationToken);
        var rows = await db.Documents.AsNoTracking()
            .Where(d => d.Source == DocumentSource.SharePoint && d.Status == DocumentStatus.Pending)
            .Select(d => new { d.Id, d.Version })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => (r.Id, r.Version))];
    }

    /// <summary>"org", "channel:C1", "conversation:&lt;guid&gt;", or ACL entries "user:a@b.com,group:g1".</summary>
    internal static bool TryParseScope(string text, out DocumentScope scope, out string? scopeKey, out IReadOnlyList<string>? principals)
    {
        scopeKey = null;
        principals = null;
        scope = DocumentScope.Organisation;
        if (text is "org" or "organisation" or "organization")
        {
            return true;
        }

        if (text.StartsWith("channel:", StringComparison.Ordinal) && text.Length > 8)
        {
            (scope, scopeKey) = (DocumentScope.Channel, text[8..]);
            return true;
        }

        if (text.StartsWith("conversation:", StringComparison.Ordinal) && text.Length > 13)
        {
            (scope, scopeKey) = (DocumentScope.Conversation, text[13..]);
            return true;
        }

        var entries = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length > 0 && entries.All(e => (e.StartsWith("user:", StringComparison.Ordinal) && e.Length > 5) || (e.StartsWith("group:", StringComparison.Ordinal) && e.Length > 6)))
        {
            (scope, principals) = (DocumentScope.Restricted, entries);
            return true;
        }

        return false;
    }

    private static async Task<Dictionary<Guid, Document>> WaitForAsync(IServiceProvider services, List<Guid> ids, CancellationToken cancellationToken)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<ChatDbContext>>();
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var documents = await db.Documents.AsNoTracking().Where(d => ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
            if (documents.Values.All(d => d.Status is DocumentStatus.Ready or DocumentStatus.Failed) || DateTime.UtcNow > deadline)
            {
                return documents;
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static string Snippet(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 200 ? flat : flat[..199] + "…";
    }

    private sealed record SearchLine(int Rank, double Score, string DocumentId, string Title, string Source, int? Page, string? Section, string Text);

    /// <summary>A one-line progress bar on a terminal; one line per step when the output is redirected.</summary>
    private sealed class ProgressBar(TextWriter writer, int total)
    {
        private readonly bool _interactive = !Console.IsErrorRedirected && ReferenceEquals(writer, Console.Error);

        public void Show(int done, string what)
        {
            if (total == 0)
            {
                return;
            }

            const int width = 30;
            var filled = (int)Math.Round(width * (double)done / total);
            var line = $"[{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {what}";
            if (_interactive)
            {
                writer.Write("\r" + (line.Length > 100 ? line[..100] : line.PadRight(100)));
            }
            else
            {
                writer.WriteLine(line);
            }
        }

        public void Done()
        {
            if (_interactive && total > 0)
            {
                writer.WriteLine();
            }
        }
    }
}

/// <summary>Positional arguments and <c>--name value</c> / <c>--flag</c> options of a verb (configuration keys with '=' are left to the host).</summary>
internal sealed class CommandArguments
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json" };

    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    public CommandArguments(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && !arg.Contains('=', StringComparison.Ordinal))
            {
                var name = arg[2..];
                if (Flags.Contains(name) || i + 1 >= list.Count)
                {
                    _options[name] = null;
                }
                else
                {
                    _options[name] = list[++i];
                }
            }
            else if (!arg.StartsWith('-') && !arg.Contains('=', StringComparison.Ordinal))
            {
                Positional.Add(arg);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                continue; // --Key=value: configuration, already read by the host
            }
            else
            {
                Positional.Add(arg);
            }
        }
    }

    public List<string> Positional { get; } = [];

    public string? Option(string name) => _options.GetValueOrDefault(name);

    public bool Flag(string name) => _options.ContainsKey(name);
}
