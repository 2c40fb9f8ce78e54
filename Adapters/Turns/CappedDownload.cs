namespace ChatBot.Adapters.Turns;

/// <summary>Reads a downloaded file into memory, refusing it as soon as it passes the size limit (whatever the server claimed).</summary>
public static class CappedDownload
{
    public static async Task<Stream> ReadAsync(HttpResponseMessage response, TurnAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(attachment);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new AttachmentRefusedException(TooLarge(attachment, maxBytes));
        }

        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
        var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (copy.Length + read > maxBytes)
            {
                await copy.DisposeAsync();
                throw new AttachmentRefusedException(TooLarge(attachment, maxBytes));
            }

            copy.Write(buffer, 0, read);
        }

        copy.Position = 0;
        return copy;
    }

    public static string TooLarge(TurnAttachment attachment, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return $"“{attachment.Name}” is too large: the limit is {maxBytes / (1024 * 1024)} MB.";
    }
}
