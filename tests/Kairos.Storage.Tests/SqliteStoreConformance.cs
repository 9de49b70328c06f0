using Kairos.Core.Auth;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Kairos.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Tests;

/// <summary>The conformance suite on SQLite: every store on its own fresh database file, removed after the test.</summary>
public sealed class SqliteStoreConformance : StoreConformance
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "kairos-tests");
    private readonly List<string> _files = [];

    protected override async Task<IKairosStore> CreateStoreAsync(TimeProvider time) =>
        await OpenAsync(NewDatabasePath(), time, SqliteDurability.Normal);

    protected override Task CleanupAsync()
    {
        // Pooled connections would keep the files open.
        SqliteConnection.ClearAllPools();
        foreach (var file in _files)
        {
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                File.Delete(file + suffix);
            }
        }
        // Other test runs may be using the folder at the same time: remove it only when nothing is left in it.
        try
        {
            if (Directory.Exists(Folder) && !Directory.EnumerateFileSystemEntries(Folder).Any())
            {
                Directory.Delete(Folder);
            }
        }
        catch (IOException)
        {
            // Someone created a file in between: the folder is theirs now.
        }
        return Task.CompletedTask;
    }

    [Fact]
    public void Driver_is_sqlite()
    {
        Assert.Equal("sqlite", Store.Driver);
        Assert.False(Store.Capabilities.NotifiesAcrossNodes);
    }

    [Fact]
    public async Task Data_survives_dispose_and_reopen_on_the_same_file()
    {
        var path = NewDatabasePath();
        var secret = ApiKeySecrets.Generate();
        Job queued, done;
        Worker worker;

        var first = await OpenAsync(path, Time, SqliteDurability.Normal);
        try
        {
            Assert.True(await first.IsReadyAsync(None));
            await first.Queues.UpsertAsync(new UpsertQueueParams(OrgA, "kept", new QueueSettings { ConcurrencyLimit = 2, RateLimit = new RateLimit(3, 1_000) }), None);
            await first.Queues.SetPausedAsync(new PauseQueueParams(OrgA, "kept", true, "reopen test"), None);
            worker = await first.Workers.RegisterAsync(new RegisterWorkerParams(OrgA, new WorkerRegistration { Name = "w", Queues = ["default"] }), None);
            done = (await first.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob(payload: """{"n":1}""") with { Tags = ["t"] }), None)).Job;
            var leased = Assert.Single((await first.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, ["default"], 1, 30_000), None)).Jobs);
            await first.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, done.Id, leased.LeaseToken, ["hello"]), None);
            Assert.Equal(CommandStatus.Applied, (await first.Jobs.AckAsync(new AckParams(OrgA, done.Id, leased.LeaseToken, """{"ok":true}"""), None)).Status);
            queued = (await first.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob("kept") with { UniqueKey = "u", Priority = 4 }), None)).Job;
            await first.ApiKeys.CreateAsync(new CreateApiKeyParams(OrgA, "k", ApiKeySecrets.VisiblePrefix(secret), ApiKeySecrets.Hash(secret), ApiKeyScopes.Admin, null), None);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Reopened with the other durability mode; migrating an up-to-date file must be a no-op.
        var second = await OpenAsync(path, Time, SqliteDurability.Full);
        try
        {
            Assert.True(await second.IsReadyAsync(None));

            var doneAgain = await second.Jobs.GetAsync(new GetJobParams(OrgA, done.Id), None);
            Assert.NotNull(doneAgain);
            Assert.Equal(JobState.Succeeded, doneAgain.State);
            AssertJsonEqual("""{"n":1}""", doneAgain.Payload);
            AssertJsonEqual("""{"ok":true}""", doneAgain.Result);
            Assert.Equal(["t"], doneAgain.Tags);
            Assert.Equal(worker.Id, Assert.Single(doneAgain.Attempts).WorkerId);
            Assert.Equal("hello", Assert.Single(doneAgain.Logs).Line);

            var queuedAgain = await second.Jobs.GetAsync(new GetJobParams(OrgA, queued.Id), None);
            Assert.NotNull(queuedAgain);
            Assert.Equal(JobState.Queued, queuedAgain.State);
            Assert.Equal(4, queuedAgain.Priority);
            Assert.Equal(queued.CreatedAt, queuedAgain.CreatedAt);
            var dedup = await second.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob("kept") with { UniqueKey = "u" }), None);
            Assert.True(dedup.Deduplicated);
            Assert.Equal(queued.Id, dedup.Job.Id);

            var queue = await second.Queues.GetAsync(new QueueParams(OrgA, "kept"), None);
            Assert.NotNull(queue);
            Assert.True(queue.Paused);
            Assert.Equal("reopen test", queue.PauseReason);
            Assert.Equal(new QueueSettings { ConcurrencyLimit = 2, RateLimit = new RateLimit(3, 1_000) }, queue.Settings);

            var workerAgain = await second.Workers.GetAsync(new WorkerParams(OrgA, worker.Id), None);
            Assert.NotNull(workerAgain);
            Assert.Equal("w", workerAgain.Registration.Name);

            var key = await second.ApiKeys.FindByHashAsync(ApiKeySecrets.Hash(secret), None);
            Assert.NotNull(key);
            Assert.Equal("k", key.Name);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private string NewDatabasePath()
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, $"{Guid.NewGuid():N}.db");
        _files.Add(path);
        return path;
    }

    private static async Task<IKairosStore> OpenAsync(string path, TimeProvider time, SqliteDurability durability)
    {
        var store = new SqliteStore(new SqliteStoreOptions { Path = path, Durability = durability }, time);
        try
        {
            await store.MigrateAsync(None);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
        return store;
    }
}
