using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The conformance suite on PostgreSQL: every store in a fresh schema of its own, dropped after the test.</summary>
public sealed class PostgresStoreConformance : StoreConformance
{
    private readonly List<string> _schemas = [];

    protected override async Task<IKairosStore> CreateStoreAsync(TimeProvider time)
    {
        _ = PostgresTestServer.ConnectionString; // skips or fails first when there is no server
        var schema = PostgresTestServer.NewSchema();
        _schemas.Add(schema);
        return await PostgresTestServer.OpenAsync(schema, time);
    }

    protected override Task CleanupAsync() =>
        _schemas.Count == 0 ? Task.CompletedTask : PostgresTestServer.DropSchemasAsync(_schemas);

    [SkippableFact]
    public void Driver_is_postgres_and_notifies_across_nodes()
    {
        Assert.Equal("postgres", Store.Driver);
        Assert.True(Store.Capabilities.NotifiesAcrossNodes);
        Assert.NotNull(Store.Cluster);
        Assert.False(string.IsNullOrEmpty(Store.Cluster.NodeId));
    }

    [SkippableFact]
    public async Task Data_survives_dispose_and_a_second_migration_of_the_same_schema()
    {
        var schema = PostgresTestServer.NewSchema();
        _schemas.Add(schema);
        Job job;
        await using (var first = await PostgresTestServer.OpenAsync(schema, Time))
        {
            job = (await first.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob() with { UniqueKey = "kept", Tags = ["t"] }), None)).Job;
        }

        await using var second = await PostgresTestServer.OpenAsync(schema, Time);
        Assert.True(await second.IsReadyAsync(None));
        var again = await second.Jobs.GetAsync(new GetJobParams(OrgA, job.Id), None);
        Assert.NotNull(again);
        Assert.Equal(JobState.Queued, again.State);
        Assert.Equal(["t"], again.Tags);
        var dedup = await second.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob() with { UniqueKey = "kept" }), None);
        Assert.True(dedup.Deduplicated);
        Assert.Equal(job.Id, dedup.Job.Id);
    }
}
