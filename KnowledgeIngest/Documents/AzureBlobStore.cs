using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ChatBot.KnowledgeIngest.Documents;

/// <summary>Originals in an Azure Blob Storage container (<c>Knowledge:AzureBlobConnectionString</c>), created on first use.</summary>
internal sealed class AzureBlobStore(BlobContainerClient container) : IBlobStore
{
    private readonly Lazy<Task> _created = new(() => container.CreateIfNotExistsAsync());

    public async Task PutAsync(string name, string sourcePath, CancellationToken cancellationToken)
    {
        await _created.Value;
        try
        {
            // If-None-Match: * — a blob is named by its content hash, so one already there holds the same bytes.
            await container.GetBlobClient(name).UploadAsync(
                sourcePath,
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409 || ex.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            // already stored
        }
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        await _created.Value;
        try
        {
            return await container.GetBlobClient(name).OpenReadAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new FileNotFoundException($"Blob {name} is missing.", name, ex);
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await _created.Value;
        await container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }
}
