using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>Full-text search of the job list: id, type, tags, payload and error words, prefixes (word*), filters, pages, organizations.</summary>
public abstract partial class StoreConformance
{
    private async Task<List<Job>> SearchAsync(string q, Guid? org = null, Func<ListJobsParams, ListJobsParams>? with = null)
    {
        var p = new ListJobsParams(org ?? OrgA) { Search = JobSearch.Terms(q) };
        return await ListAllAsync(with is null ? p : with(p));
    }

    private static Guid[] JobIds(IEnumerable<Job> jobs) => [.. jobs.Select(j => j.Id)];

    [SkippableFact]
    public async Task Search_finds_jobs_by_words_of_their_type_tags_payload_and_id()
    {
        var invoice = await EnqueueAsync(MakeJob("billing", "invoice.send", """{"customer":"ada@example.com","amount":120}""") with { Tags = ["vip", "eu-west"] });
        var report = await EnqueueAsync(MakeJob("reports", "report.build", """{"kind":"Monthly Überblick","owner":"grace@example.org"}"""));
        var other = await EnqueueAsync(MakeJob("billing", "invoice.send", """{"customer":"ada@example.com"}"""), OrgB);

        Assert.Equal([invoice.Id], JobIds(await SearchAsync("invoice")));
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("INVOICE")));                  // any case
        Assert.Empty(await SearchAsync("inv"));                                            // whole words ...
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("INV*")));                     // ... unless a prefix is asked for
        Assert.Equal([report.Id, invoice.Id], JobIds(await SearchAsync("exam*")));
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("ada@example.com")));          // an address is its words
        Assert.Equal([report.Id, invoice.Id], JobIds(await SearchAsync("example")));
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("vip")));
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("west")));
        Assert.Equal([report.Id], JobIds(await SearchAsync("überblick monthly")));         // all words, any order
        Assert.Empty(await SearchAsync("monthly invoice"));
        Assert.Equal([report.Id], JobIds(await SearchAsync(report.Id.ToString())));
        Assert.Equal([invoice.Id], JobIds(await SearchAsync("amount")));
        Assert.Empty(await SearchAsync("nothing-like-this"));
        // Another organization's job with the same words is its own.
        Assert.Equal([other.Id], JobIds(await SearchAsync("invoice", OrgB)));
    }

    [SkippableFact]
    public async Task Search_finds_error_messages_once_a_job_failed_and_forgets_deleted_jobs()
    {
        var worker = await RegisterAsync("w", OrgA, "default");
        var job = await EnqueueAsync(MakeJob(type: "sync.crm"));
        Assert.Empty(await SearchAsync("timeout"));
        var leased = await LeaseOneAsync(worker);
        await Store.Jobs.FailAsync(new FailParams(OrgA, job.Id, leased.LeaseToken,
            new Failure(new JobError("Upstream timeout after 30s", "TimeoutException", "at Crm.Sync()"), Retryable: false)), None);
        Assert.Equal([job.Id], JobIds(await SearchAsync("upstream timeout")));
        Assert.Equal([job.Id], JobIds(await SearchAsync("sync crm")));

        await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, job.Id), None);
        Assert.Empty(await SearchAsync("upstream"));
        Assert.Empty(await SearchAsync("sync"));
    }

    [SkippableFact]
    public async Task Search_combines_with_the_filters_and_pages_newest_first()
    {
        var matching = new List<Job>();
        for (var i = 0; i < 7; i++)
        {
            matching.Add(await EnqueueAsync(MakeJob(i % 2 == 0 ? "even" : "odd", "order.ship", $$"""{"order":"ord{{i}}","carrier":"dhl"}""")));
            await EnqueueAsync(MakeJob(i % 2 == 0 ? "even" : "odd", "order.ship", $$"""{"order":"ord{{i}}","carrier":"ups"}"""));
        }
        Time.Advance(TimeSpan.FromMinutes(1));
        var late = await EnqueueAsync(MakeJob("even", "order.ship", """{"carrier":"dhl"}"""));

        var all = await ListAllAsync(new ListJobsParams(OrgA) { Search = JobSearch.Terms("dhl"), Limit = 3 }, expectedPages: 3);
        Assert.Equal(JobIds(matching.Append(late).Reverse()), JobIds(all));
        var oldestFirst = await ListAllAsync(new ListJobsParams(OrgA) { Search = JobSearch.Terms("dhl"), Limit = 2, Sort = JobSort.OldestFirst });
        Assert.Equal(JobIds(matching.Append(late)), JobIds(oldestFirst));
        Assert.Equal(JobIds(matching.Where((_, i) => i % 2 == 0).Append(late).Reverse()),
            JobIds(await SearchAsync("dhl", with: p => p with { Queue = "even" })));
        Assert.Equal([late.Id], JobIds(await SearchAsync("dhl", with: p => p with { CreatedAfter = Start.AddSeconds(30) })));
        Assert.Equal([matching[3].Id], JobIds(await SearchAsync("dhl", with: p => p with { Queue = "odd", Search = JobSearch.Terms("dhl ord3") })));
        Assert.Empty(await SearchAsync("dhl", with: p => p with { State = JobState.Running }));
    }

    [SkippableFact]
    public async Task Search_with_a_filter_answers_the_same_whether_the_filter_keeps_few_jobs_or_many()
    {
        // A store may walk the jobs its filters keep and ask the search index about each (SQLite does below 2,000), or
        // walk the index's matches and filter them: both answers must be the same, pages and orders included.
        const int many = 2_100;
        var crowd = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA,
            [.. Enumerable.Range(0, many).Select(i => MakeJob("crowd", "sync.crm", $$"""{"n":{{i}},"word":"{{(i % 700 == 0 ? "parcel" : "letter")}}"}"""))]), None);
        var few = new List<Job>();
        for (var i = 0; i < 5; i++)
        {
            few.Add(await EnqueueAsync(MakeJob("few", "sync.crm", $$"""{"n":{{i}},"word":"parcel"}""")));
            await EnqueueAsync(MakeJob("few", "sync.crm", $$"""{"n":{{i}},"word":"letter"}"""));
        }
        var crowdParcels = crowd.Select(r => r.Job).Where((_, i) => i % 700 == 0).ToList();

        Assert.Equal(JobIds(Enumerable.Reverse(few)), JobIds(await ListAllAsync(
            new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel"), Queue = "few", Limit = 2 }, expectedPages: 3)));
        Assert.Equal(JobIds(few), JobIds(await ListAllAsync(
            new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel"), Queue = "few", Limit = 2, Sort = JobSort.OldestFirst })));
        Assert.Equal(JobIds(Enumerable.Reverse(crowdParcels)), JobIds(await ListAllAsync(
            new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel"), Queue = "crowd", Limit = 2 }, expectedPages: 2)));
        Assert.Equal(JobIds(crowdParcels), JobIds(await ListAllAsync(
            new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel"), Queue = "crowd", Limit = 2, Sort = JobSort.OldestFirst })));
        Assert.Equal(JobIds(Enumerable.Reverse(crowdParcels.Concat(few))), JobIds(await ListAllAsync(
            new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel"), Type = "sync.crm", Limit = 4 })));
        Assert.Equal(many + 10, (await ListAllAsync(new ListJobsParams(OrgA) { Search = JobSearch.Terms("sync"), State = JobState.Queued, Limit = 500 })).Count);
        Assert.Empty(await SearchAsync("letter", with: p => p with { State = JobState.Failed }));
        Assert.Empty(await SearchAsync("letter", with: p => p with { Queue = "few", State = JobState.Running }));
    }
}
