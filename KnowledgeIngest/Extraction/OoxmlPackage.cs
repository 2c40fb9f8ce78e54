using System.IO.Compression;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>
/// Checks an Office Open XML file before a parser opens it: an OLE file (encrypted Office or the old binary formats)
/// and zip bombs (too many entries, too many expanded bytes, an absurd compression ratio) fail with a clear reason.
/// </summary>
internal static class OoxmlPackage
{
    private const long RatioCheckFloor = 1024 * 1024;
    private const int MaxCompressionRatio = 200;

    private static ReadOnlySpan<byte> OleSignature => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    public static MemoryStream Open(MemoryStream bytes, ExtractionLimits limits)
    {
        var head = bytes.GetBuffer().AsSpan(0, (int)Math.Min(8, bytes.Length));
        if (head.SequenceEqual(OleSignature))
        {
            throw new ExtractionException("The file is password-protected (encrypted) or in the old binary Office format; save it unprotected as .docx, .pptx or .xlsx.");
        }

        try
        {
            using var zip = new ZipArchive(bytes, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.Count > limits.MaxArchiveEntries)
            {
                throw new ExtractionException($"The file has {zip.Entries.Count:N0} parts; more than {limits.MaxArchiveEntries:N0} is refused (a zip bomb?).");
            }

            long expanded = 0;
            foreach (var entry in zip.Entries)
            {
                expanded += entry.Length;
                if (expanded > limits.MaxExpandedBytes)
                {
                    throw new ExtractionException($"The file expands to more than {limits.MaxExpandedBytes / (1024 * 1024):N0} MB, the limit (a zip bomb?).");
                }

                if (entry.Length > RatioCheckFloor && entry.CompressedLength > 0 && entry.Length / entry.CompressedLength > MaxCompressionRatio)
                {
                    throw new ExtractionException($"A part of the file is compressed more than {MaxCompressionRatio}:1 (a zip bomb?).");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ExtractionException("The file is damaged: it is not a valid Office (zip) package.", ex);
        }

        bytes.Position = 0;
        return bytes;
    }
}
