using Microsoft.AspNetCore.Http;

namespace ChatBot.Adapters;

/// <summary>
/// Reads a webhook body up to a limit; null when it is larger, whatever Content-Length claims. Works the same under
/// Kestrel and the in-memory test server (unlike the server's own body-size limit) and keeps the raw bytes that
/// signatures are computed over.
/// </summary>
public static class BoundedBody
{
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
