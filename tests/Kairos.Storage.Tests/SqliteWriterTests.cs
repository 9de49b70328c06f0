using Kairos.Core.Auth;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Storage.Sqlite;

namespace Kairos.Storage.Tests;

/// <summary>The group-commit writer: many callers' work in one transaction, and one failing spoils nothing else.</summary>
public sealed class SqliteWriterTests : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "kairos-writer-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Failing_work_in_a_shared_batch_fails_alone_and_the_rest_commits()
    {
        await using var store = new SqliteStore(new SqliteStoreOptions { Path = Path.Combine(_folder, "k.db") }, TimeProvider.System);
        await store.MigrateAsync(CancellationToken.None);
        var org = Organizations.Default;

        // 400 concurrent enqueues, every fifth one invalid: they share batches with valid ones.
        var attempts = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            var job = new NewJob { Queue = i % 5 == 0 ? "" : "q", Type = "t", Payload = $"{{\"i\":{i}}}" };
            try
            {
                var r = await store.Jobs.EnqueueAsync(new EnqueueParams(org, job), CancellationToken.None);
                return (i, r.Job.Id, Error: (Exception?)null);
            }
            catch (ArgumentException ex)
            {
                return (i, Guid.Empty, Error: ex);
            }
        })).ToArray();
        var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results.Where(r => r.i % 5 == 0), r => Assert.NotNull(r.Error));
        var good = results.Where(r => r.i % 5 != 0).ToList();
        Assert.All(good, r => Assert.Null(r.Error));
        var listed = new HashSet<Guid>();
        string? cursor = null;
        do
        {
            var page = await store.Jobs.ListAsync(new ListJobsParams(org) { Limit = 500, Cursor = cursor }, CancellationToken.None);
            foreach (var j in page.Items) listed.Add(j.Id);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(good.Select(r => r.Id).ToHashSet(), listed);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
