using Azure.Storage.Blobs;
using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Documents;
using ChatBot.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.KnowledgeIngest.Tests;

/// <summary>Originals in Azure Blob Storage, against Azurite (the emulator speaking the Blob REST protocol).</summary>
public sealed class AzureBlobStoreTests
{
    [Fact]
    public async Task WithAzureBlobStorage_OriginalsAreStoredThere_ReadByTheJob_AndDeletedWithTheDocument()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var engine = await KnowledgeEngine.CreateAsync(DatabaseProvider.Sqlite, new()
        {
            ["Knowledge:AzureBlobConnectionString"] = azurite.ConnectionString,
            ["Knowledge:AzureBlobContainer"] = "knowledge-test",
        });
        var container = new BlobContainerClient(azurite.ConnectionString, "knowledge-test");

        var result = await engine.IngestAsync("vpn.txt", "Install the VPN client from the Software Center.");
        var again = await engine.AddAsync("vpn-copy.txt", "Install the VPN client from the Software Center."u8.ToArray());

        Assert.True(again.IsUnchanged);
        var blob = Assert.Single(await ListAsync(container));
        Assert.Equal((await engine.DocumentAsync(result.DocumentId)).ContentHash, blob);
        Assert.NotEmpty(await engine.AskAsync("How do I install the VPN client?"));
        await using (var stream = await engine.Services.GetRequiredService<IBlobStore>().OpenReadAsync(blob, CancellationToken.None))
        {
            Assert.Equal("Install the VPN client from the Software Center.", await new StreamReader(stream).ReadToEndAsync());
        }

        await engine.Intake.DeleteAsync(result.DocumentId, CancellationToken.None);

        Assert.Empty(await ListAsync(container));
        await Assert.ThrowsAsync<FileNotFoundException>(() => engine.Services.GetRequiredService<IBlobStore>().OpenReadAsync(blob, CancellationToken.None));
    }

    private static async Task<List<string>> ListAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync())
        {
            names.Add(item.Name);
        }

        return names;
    }
}
