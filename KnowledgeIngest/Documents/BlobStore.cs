namespace ChatBot.KnowledgeIngest.Documents;

/// <summary>Where original files are kept. Blobs are named by content hash, so identical files share one blob.</summary>
public interface IBlobStore
{
    /// <summary>Stores the file; a blob that already exists is left as it is.</summary>
    Task PutAsync(string name, string sourcePath, CancellationToken cancellationToken);

    /// <summary>Opens a blob for reading; <see cref="FileNotFoundException"/> when it is gone.</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken);

    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>Blobs as files under <c>Knowledge:BlobPath</c>, fanned out by the first two characters of the name.</summary>
internal sealed class DiskBlobStore(string root) : IBlobStore
{
    public async Task PutAsync(string name, string sourcePath, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (File.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write under a temporary name and move, so a crash never leaves a half-written blob under the real name.
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await using (var source = File.OpenRead(sourcePath))
        await using (var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            await source.CopyToAsync(target, cancellationToken);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary); // another upload of the same content won the race; same bytes
        }
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(new FileStream(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true));

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(name));
        return Task.CompletedTask;
    }

    private string PathOf(string name)
    {
        if (name.Length < 3 || !name.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("A blob name is a content hash.", nameof(name));
        }

        return Path.Combine(root, name[..2], name);
    }
}
