using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>
/// Sorted job lists: every sort (<see cref="JobSort"/>) in both directions walks every job exactly once in its order,
/// ties (equal times, priorities, attempts) in creation order, with and without filters; a cursor serves only its sort.
/// </summary>
public abstract partial class StoreConformance
{
    private static readonly JobSort[] EverySort =
        [.. Enum.GetValues<JobSortKey>().SelectMany(k => new[] { new JobSort(k, Descending: false), new JobSort(k, Descending: true) })];

    /// <summary>
    /// Jobs of every kind the sorts tell apart, with ties in each sorted column: four made at one instant in one batch,
    /// scheduled ones (two at one run_at), queued ones, two finished at one instant, a failed one, a retrying one (a
    /// later run_at, attempt 1), a running one. Returns the ids in the order they were made.
    /// </summary>
    private async Task<List<Guid>> MakeSortableJobsAsync()
    {
        var created = new List<Guid>();
        var batch = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA,
        [
            MakeJob("a", payload: """{"carrier":"dhl"}""") with { Priority = 5, Tags = ["t"] },
            MakeJob("b") with { Priority = 5 },
            MakeJob("a") with { Priority = -1, Tags = ["t"] },
            MakeJob("b"),
        ]), None);
        created.AddRange(batch.Select(r => r.Job.Id));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        created.Add((await EnqueueAsync(MakeJob("a") with { RunAt = Start.AddHours(1), Priority = 5 })).Id);
        created.Add((await EnqueueAsync(MakeJob("b") with { RunAt = Start.AddHours(1), Tags = ["t"] })).Id);
        created.Add((await EnqueueAsync(MakeJob("a", payload: """{"carrier":"dhl"}""") with { RunAt = Start.AddMinutes(30), Priority = 2 })).Id);
        for (var i = 0; i < 7; i++)
        {
            var payload = i % 2 == 0 ? $$"""{"carrier":"dhl","n":{{i}}}""" : $$"""{"n":{{i}}}""";
            created.Add((await EnqueueAsync(MakeJob("run", payload: payload) with { Priority = i % 3, Tags = i % 3 == 0 ? ["t"] : [] })).Id);
        }
        await EnqueueAsync(MakeJob("run"), OrgB);

        var worker = await RegisterAsync("w", OrgA, "run");
        Time.Advance(TimeSpan.FromSeconds(1));
        var leased = await LeaseAsync(worker, ["run"], 6);
        Assert.Equal(6, leased.Count);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CommandStatus.Applied, (await AckAsync(leased[0].Job.Id, leased[0].LeaseToken)).Status);
        Assert.Equal(CommandStatus.Applied, (await AckAsync(leased[1].Job.Id, leased[1].LeaseToken)).Status);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CommandStatus.Applied, (await AckAsync(leased[2].Job.Id, leased[2].LeaseToken)).Status);
        Assert.Equal(CommandStatus.Applied, (await FailAsync(leased[3].Job.Id, leased[3].LeaseToken, "gone", retryable: false)).Status);
        Assert.Equal(CommandStatus.Applied, (await FailAsync(leased[4].Job.Id, leased[4].LeaseToken, "later", retryable: true, retryInMs: 600_000)).Status);
        return created;
    }

    /// <summary>The jobs in the order <paramref name="sort"/> means: the key (a missing finished_at last), then creation order, in the sort's direction.</summary>
    private static List<Guid> InSortOrder(IEnumerable<Job> jobs, JobSort sort, List<Guid> created)
    {
        long Key(Job j) => sort.Key switch
        {
            JobSortKey.RunAt => j.RunAt.ToUnixTimeMilliseconds(),
            JobSortKey.FinishedAt => j.FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
            JobSortKey.Priority => j.Priority,
            JobSortKey.Attempt => j.Attempt,
            _ => 0,
        };
        var rank = created.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        var missingLast = jobs.OrderBy(j => sort.Key == JobSortKey.FinishedAt && j.FinishedAt is null);
        var ordered = sort.Descending
            ? missingLast.ThenByDescending(Key).ThenByDescending(j => rank[j.Id])
            : missingLast.ThenBy(Key).ThenBy(j => rank[j.Id]);
        return [.. ordered.Select(j => j.Id)];
    }

    [SkippableFact]
    public async Task List_pages_walk_every_job_exactly_once_in_each_sort_order_ties_in_creation_order()
    {
        var created = await MakeSortableJobsAsync();
        var jobs = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 500 });
        Assert.Equal(created.Count, jobs.Count);
        // The data has what the sorts must cope with: ties in each column, and jobs without a finished_at.
        Assert.Contains(jobs.GroupBy(j => j.CreatedAt), g => g.Count() > 1);
        Assert.Contains(jobs.GroupBy(j => j.RunAt), g => g.Count() > 1);
        Assert.Contains(jobs.Where(j => j.FinishedAt is not null).GroupBy(j => j.FinishedAt), g => g.Count() > 1);
        Assert.Contains(jobs, j => j.FinishedAt is null);
        Assert.Contains(jobs.GroupBy(j => j.Priority), g => g.Count() > 1);
        Assert.Equal([0, 1], jobs.Select(j => j.Attempt).Distinct().Order());

        foreach (var sort in EverySort)
        {
            var expected = InSortOrder(jobs, sort, created);
            foreach (var limit in new[] { 1, 3, 500 })
            {
                var listed = await ListAllAsync(new ListJobsParams(OrgA) { Sort = sort, Limit = limit });
                Assert.True(expected.SequenceEqual(listed.Select(j => j.Id)), $"sort={sort}, limit={limit}: not in order");
            }
        }

        // Creation order is also created_at order.
        var oldestFirst = await ListAllAsync(new ListJobsParams(OrgA) { Sort = JobSort.OldestFirst, Limit = 4 });
        Assert.Equal(oldestFirst.Select(j => j.CreatedAt).Order(), oldestFirst.Select(j => j.CreatedAt));
    }

    [SkippableFact]
    public async Task List_pages_walk_every_sort_order_with_filters_and_search()
    {
        var created = await MakeSortableJobsAsync();
        var jobs = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 500 });
        var filters = new (ListJobsParams Filter, Func<Job, bool> Matches)[]
        {
            (new ListJobsParams(OrgA) { Queue = "run" }, j => j.Queue == "run"),
            (new ListJobsParams(OrgA) { State = JobState.Queued }, j => j.State == JobState.Queued),
            (new ListJobsParams(OrgA) { State = JobState.Succeeded }, j => j.State == JobState.Succeeded),
            (new ListJobsParams(OrgA) { Queue = "a", State = JobState.Scheduled }, j => j.Queue == "a" && j.State == JobState.Scheduled),
            (new ListJobsParams(OrgA) { Tag = "t" }, j => j.Tags.Contains("t")),
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("dhl") }, j => j.Payload.Contains("dhl", StringComparison.Ordinal)),
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("dhl"), Queue = "run", CreatedAfter = Start.AddMilliseconds(1) },
                j => j.Payload.Contains("dhl", StringComparison.Ordinal) && j.Queue == "run"),
        };
        foreach (var (filter, matches) in filters)
        {
            var matching = jobs.Where(matches).ToList();
            Assert.True(matching.Count >= 2, "each filter matches a few jobs");
            foreach (var sort in EverySort)
            {
                var listed = await ListAllAsync(filter with { Sort = sort, Limit = 2 });
                Assert.True(InSortOrder(matching, sort, created).SequenceEqual(listed.Select(j => j.Id)), $"sort={sort} with a filter: not in order");
            }
        }
    }

    [SkippableFact]
    public async Task Sorted_lists_answer_the_same_whether_a_filter_keeps_few_jobs_or_many()
    {
        // A store may read the jobs a filter keeps and sort them, or walk an index in the sort's order and check each job
        // against the filter (SQLite sorts below 5,000 jobs): both answers must be the same, with long runs of ties
        // (priority, run_at, attempt) across pages, running jobs among them, and for a tag as for a queue.
        const int many = 5_100;
        var created = new List<Guid>();
        foreach (var chunk in Enumerable.Range(0, many).Chunk(1_000))
        {
            var batch = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, [.. chunk.Select(i =>
                MakeJob("crowd") with
                {
                    Priority = i % 3,
                    RunAt = i % 4 == 0 ? Start.AddMinutes(i % 7 + 1) : null,
                    Tags = i % 2 == 0 ? ["even"] : [],
                })]), None);
            created.AddRange(batch.Select(r => r.Job.Id));
        }
        for (var i = 0; i < 6; i++) created.Add((await EnqueueAsync(MakeJob("few") with { Priority = i % 2, Tags = ["even"] })).Id);
        var worker = await RegisterAsync("w", OrgA, "crowd");
        var leased = await LeaseAsync(worker, ["crowd"], 12);
        Assert.Equal(12, leased.Count);
        Time.Advance(TimeSpan.FromSeconds(1));
        foreach (var l in leased.Take(4)) Assert.Equal(CommandStatus.Applied, (await AckAsync(l.Job.Id, l.LeaseToken)).Status);

        var jobs = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 500 });
        Assert.Equal(many + 6, jobs.Count);
        Assert.Equal(8, jobs.Count(j => j.State == JobState.Running));
        var filters = new (ListJobsParams Filter, Func<Job, bool> Matches)[]
        {
            (new ListJobsParams(OrgA) { Queue = "crowd" }, j => j.Queue == "crowd"),
            (new ListJobsParams(OrgA) { Queue = "few" }, j => j.Queue == "few"),
            (new ListJobsParams(OrgA) { State = JobState.Queued }, j => j.State == JobState.Queued),
            (new ListJobsParams(OrgA) { State = JobState.Running }, j => j.State == JobState.Running),
            (new ListJobsParams(OrgA) { Tag = "even" }, j => j.Tags.Contains("even")),
            (new ListJobsParams(OrgA) { Queue = "crowd", State = JobState.Scheduled }, j => j.Queue == "crowd" && j.State == JobState.Scheduled),
        };
        foreach (var sort in EverySort.Where(s => s.Key is JobSortKey.Priority or JobSortKey.RunAt or JobSortKey.Attempt))
        {
            foreach (var (filter, matches) in filters)
            {
                var listed = await ListAllAsync(filter with { Sort = sort, Limit = 500 });
                Assert.True(InSortOrder(jobs.Where(matches), sort, created).SequenceEqual(listed.Select(j => j.Id)),
                    $"sort={sort.ToWire()} with {filter.Queue ?? filter.Tag ?? filter.State?.ToWire()}: not in order");
            }
            // Deep into one key's ties: a page of 7 from a cursor in the middle of the run of priority 1 (or run_at now).
            var all = InSortOrder(jobs, sort, created);
            var firstPage = await Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Sort = sort, Limit = 2_600 }, None);
            var next = await Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Sort = sort, Limit = 7, Cursor = firstPage.NextCursor }, None);
            Assert.Equal(all.Skip(2_600).Take(7), next.Items.Select(j => j.Id));
        }
    }

    [SkippableFact]
    public async Task A_search_sorted_by_another_column_answers_the_same_with_few_matches_or_many()
    {
        // A store may sort a search's matches, or walk an index in the sort's order and ask the search index about each
        // job (SQLite does from 20,000 matches on, and with a filter that keeps few jobs it reads those): the answers must
        // be the same, finished and running jobs among them.
        const int many = 20_400;
        var created = new List<Guid>();
        foreach (var chunk in Enumerable.Range(0, many).Chunk(2_000))
        {
            // Every 64th job has neither word: the many matches of "letter" are not every job.
            string Words(int i) => i % 64 == 1 ? "stamp" : i % 500 == 0 ? "letter parcel" : "letter";
            var batch = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, [.. chunk.Select(i =>
                MakeJob(i % 1_000 == 0 ? "few" : "crowd", payload: $$"""{"n":{{i}},"w":"{{Words(i)}}"}""")
                    with { Priority = i % 3, RunAt = i % 4 == 0 ? Start.AddMinutes(i % 7 + 1) : null })]), None);
            created.AddRange(batch.Select(r => r.Job.Id));
        }
        var worker = await RegisterAsync("w", OrgA, "few", "crowd");
        var leased = await LeaseAsync(worker, ["few", "crowd"], 40);
        Time.Advance(TimeSpan.FromSeconds(1));
        foreach (var l in leased.Take(30)) Assert.Equal(CommandStatus.Applied, (await AckAsync(l.Job.Id, l.LeaseToken)).Status);

        var jobs = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 1_000 });
        Assert.Equal(many, jobs.Count);
        Assert.InRange(jobs.Count(j => j.Payload.Contains("letter", StringComparison.Ordinal)), 20_000, many - 300);
        Assert.Contains(jobs, j => j.FinishedAt is not null && !j.Payload.Contains("letter", StringComparison.Ordinal));
        var searches = new (ListJobsParams Filter, Func<Job, bool> Matches)[]
        {
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("letter") }, j => j.Payload.Contains("letter", StringComparison.Ordinal)),
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("parcel") }, j => j.Payload.Contains("parcel", StringComparison.Ordinal)),
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("letter"), Queue = "few" }, j => j.Queue == "few" && j.Payload.Contains("letter", StringComparison.Ordinal)),
            (new ListJobsParams(OrgA) { Search = JobSearch.Terms("letter"), State = JobState.Succeeded },
                j => j.State == JobState.Succeeded && j.Payload.Contains("letter", StringComparison.Ordinal)),
        };
        foreach (var sort in EverySort.Where(s => s.Key != JobSortKey.CreatedAt))
        {
            foreach (var (filter, matches) in searches)
            {
                var listed = await ListAllAsync(filter with { Sort = sort, Limit = filter.Queue is null && filter.State is null && filter.Search![0] == "letter" ? 5_000 : 7 });
                Assert.True(InSortOrder(jobs.Where(matches), sort, created).SequenceEqual(listed.Select(j => j.Id)),
                    $"sort={sort.ToWire()}, q={filter.Search![0]} {filter.Queue ?? filter.State?.ToWire()}: not in order");
            }
        }
    }

    [SkippableFact]
    public async Task List_refuses_a_cursor_given_out_for_another_sort()
    {
        await MakeSortableJobsAsync();
        foreach (var sort in EverySort)
        {
            var page = await Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Sort = sort, Limit = 2 }, None);
            Assert.NotNull(page.NextCursor);
            foreach (var other in EverySort.Where(s => s != sort))
            {
                var refused = await Assert.ThrowsAsync<ArgumentException>(
                    () => Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Sort = other, Cursor = page.NextCursor }, None));
                Assert.Equal("cursor", refused.ParamName);
            }
            Assert.Equal(2, (await Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Sort = sort, Limit = 2, Cursor = page.NextCursor }, None)).Items.Count);
        }
    }
}
