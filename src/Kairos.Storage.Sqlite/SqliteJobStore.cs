using System.Globalization;
using System.Text;
using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

internal sealed class SqliteJobStore(SqliteStore store) : IJobStore
{
    // ---------------------------------------------------------------- enqueue

    public Task<EnqueueResult> EnqueueAsync(EnqueueParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Insert(ctx, p.OrganizationId, p.Job), cancellationToken);

    public Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(EnqueueManyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<EnqueueResult>>(ctx =>
        {
            // One write op: the savepoint around it makes the whole batch all-or-nothing. Runs of plain jobs (no unique
            // key, no tags) go in as one set-based INSERT each; the others one by one, in the order given (FIFO).
            var results = new EnqueueResult[p.Jobs.Count];
            var i = 0;
            while (i < results.Length)
            {
                var end = i;
                while (end < results.Length && IsPlain(p.Jobs[end])) end++;
                if (end - i >= InsertManyThreshold)
                {
                    InsertMany(ctx, p.OrganizationId, p.Jobs, i, end, results);
                    i = end;
                    continue;
                }
                results[i] = Insert(ctx, p.OrganizationId, p.Jobs[i]);
                i++;
            }
            return results;
        }, cancellationToken);

    /// <summary>From this many plain jobs in a row on, a bulk enqueue inserts them with one statement.</summary>
    private const int InsertManyThreshold = 4;

    private static bool IsPlain(NewJob job) =>
        job.UniqueKey is null && job.Tags.Count == 0 && !string.IsNullOrEmpty(job.Queue) && !string.IsNullOrEmpty(job.Type);

    /// <summary>
    /// Inserts jobs [<paramref name="from"/>, <paramref name="to"/>) with one <c>INSERT ... SELECT FROM json_each</c>:
    /// the same rows <see cref="Insert"/> writes, in the same order, without a statement per job.
    /// </summary>
    private static void InsertMany(WriteContext ctx, Guid organizationId, IReadOnlyList<NewJob> jobs, int from, int to, EnqueueResult[] results)
    {
        var org = organizationId.ToString();
        var now = ctx.Now;
        var nowMs = Ms(now);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256 * (to - from));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            for (var i = from; i < to; i++)
            {
                var job = jobs[i];
                var queue = SqliteQueueStore.Ensure(ctx, org, job.Queue);
                var runAt = job.RunAt ?? now;
                var state = JobStateMachine.Enqueue(runAt, now);
                var id = Ids.New(ctx.Time);
                var maxAttempts = job.MaxAttempts ?? queue.DefaultMaxAttempts ?? RetryPolicy.DefaultMaxAttempts;
                var timeoutMs = job.TimeoutMs ?? queue.DefaultTimeoutMs;
                w.WriteStartArray();
                w.WriteStringValue(id.ToString());
                w.WriteStringValue(job.Queue);
                w.WriteStringValue(job.Type);
                w.WriteStringValue(job.Payload);
                w.WriteNumberValue(job.Priority);
                w.WriteStringValue(state.ToWire());
                w.WriteNumberValue(Ms(runAt));
                w.WriteNumberValue(maxAttempts);
                if (timeoutMs is { } t) w.WriteNumberValue(t);
                else w.WriteNullValue();
                w.WriteEndArray();
                results[i] = new EnqueueResult(Inserted(id, organizationId, job, state, runAt, maxAttempts, timeoutMs, now), Deduplicated: false);
            }
            w.WriteEndArray();
        }
        ctx.Cmd("INSERT INTO jobs (id, organization_id, queue, type, payload, priority, state, run_at, max_attempts, timeout_ms, created_at) " +
                "SELECT value ->> 0, $org, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, $now " +
                "FROM json_each($rows) ORDER BY key")
            .Set("$org", org).Set("$now", nowMs).Set("$rows", Encoding.UTF8.GetString(buffer.WrittenSpan)).ExecuteNonQuery();
    }

    internal static EnqueueResult Insert(WriteContext ctx, Guid organizationId, NewJob job)
    {
        if (string.IsNullOrEmpty(job.Queue)) throw new ArgumentException("A job needs a queue.", nameof(job));
        if (string.IsNullOrEmpty(job.Type)) throw new ArgumentException("A job needs a type.", nameof(job));
        var org = organizationId.ToString();
        var queue = SqliteQueueStore.Ensure(ctx, org, job.Queue);

        if (job.UniqueKey is { } key)
        {
            var find = ctx.Cmd($"SELECT {JobColumns} FROM jobs WHERE organization_id = $org AND queue = $queue AND unique_key = $key " +
                               "AND state NOT IN ('succeeded', 'failed', 'cancelled') LIMIT 1");
            find.Set("$org", org).Set("$queue", job.Queue).Set("$key", key);
            using var r = find.ExecuteReader();
            if (r.Read())
            {
                return new EnqueueResult(Job(r), Deduplicated: true);
            }
        }

        var now = ctx.Now;
        var runAt = job.RunAt ?? now;
        var state = JobStateMachine.Enqueue(runAt, now);
        var id = Ids.New(ctx.Time);
        var maxAttempts = job.MaxAttempts ?? queue.DefaultMaxAttempts ?? RetryPolicy.DefaultMaxAttempts;
        var timeoutMs = job.TimeoutMs ?? queue.DefaultTimeoutMs;

        var insert = ctx.Cmd(
            "INSERT INTO jobs (id, organization_id, queue, type, payload, priority, state, run_at, max_attempts, timeout_ms, unique_key, tags, created_at) " +
            "VALUES ($id, $org, $queue, $type, $payload, $priority, $state, $run_at, $max_attempts, $timeout_ms, $unique_key, $tags, $now) RETURNING seq");
        insert.Set("$id", id.ToString()).Set("$org", org).Set("$queue", job.Queue).Set("$type", job.Type)
            .Set("$payload", job.Payload).Set("$priority", job.Priority).Set("$state", state.ToWire())
            .Set("$run_at", Ms(runAt)).Set("$max_attempts", maxAttempts).Set("$timeout_ms", timeoutMs)
            .Set("$unique_key", job.UniqueKey).Set("$tags", TagsJson(job.Tags)).Set("$now", Ms(now));
        var seq = (long)insert.ExecuteScalar()!;
        if (job.Tags.Count > 0)
        {
            var tag = ctx.Cmd("INSERT OR IGNORE INTO job_tags (organization_id, tag, job_seq) VALUES ($org, $tag, $seq)");
            foreach (var t in job.Tags)
            {
                tag.Set("$org", org).Set("$tag", t).Set("$seq", seq).ExecuteNonQuery();
            }
        }
        return new EnqueueResult(Inserted(id, organizationId, job, state, runAt, maxAttempts, timeoutMs, now), Deduplicated: false);
    }

    /// <summary>The job as an insert wrote it.</summary>
    private static Job Inserted(Guid id, Guid organizationId, NewJob job, JobState state, DateTimeOffset runAt, int maxAttempts, int? timeoutMs,
        DateTimeOffset now) => new()
    {
        Id = id,
        OrganizationId = organizationId,
        Queue = job.Queue,
        Type = job.Type,
        Payload = job.Payload,
        Priority = job.Priority,
        State = state,
        RunAt = runAt,
        MaxAttempts = maxAttempts,
        TimeoutMs = timeoutMs,
        UniqueKey = job.UniqueKey,
        Tags = job.Tags,
        CreatedAt = now,
    };

    // ---------------------------------------------------------------- reads

    public Task<Job?> GetAsync(GetJobParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            Job? job;
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = $"SELECT {JobColumns} FROM jobs WHERE id = $id AND organization_id = $org";
                cmd.Set("$id", p.JobId.ToString()).Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                job = r.Read() ? Job(r) : null;
            }
            if (job is null) return null;
            var attempts = new List<JobAttempt>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT number, worker_id, started_at, finished_at, outcome, error_message, error_type, error_stack " +
                                  "FROM job_attempts WHERE job_id = $id AND organization_id = $org ORDER BY number";
                cmd.Set("$id", p.JobId.ToString()).Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    var message = StringOrNull(r, 5);
                    attempts.Add(new JobAttempt(r.GetInt32(0), GuidOrNull(r, 1), Time(r.GetInt64(2)), TimeOrNull(r, 3), StringOrNull(r, 4),
                        message is null ? null : new JobError(message, StringOrNull(r, 6), StringOrNull(r, 7))));
                }
            }
            var logs = new List<JobLogLine>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT at, line FROM job_logs WHERE job_id = $id AND organization_id = $org ORDER BY id";
                cmd.Set("$id", p.JobId.ToString()).Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    logs.Add(new JobLogLine(Time(r.GetInt64(0)), r.GetString(1)));
                }
            }
            return job with { Attempts = attempts, Logs = logs };
        }, cancellationToken);

    public Task<JobLogPage?> ListLogsAsync(ListLogsParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<JobLogPage?>(c =>
        {
            // The state first: if it is finished here, every line was written before (lines need a live lease).
            JobState state;
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT state FROM jobs WHERE id = $id AND organization_id = $org";
                cmd.Set("$id", p.JobId.ToString()).Set("$org", p.OrganizationId.ToString());
                if (cmd.ExecuteScalar() is not string s) return null;
                state = JobStates.Parse(s);
            }
            var lines = new List<JobLogEntry>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT id, attempt, at, line FROM job_logs WHERE job_id = $id AND organization_id = $org AND id > $after ORDER BY id LIMIT $n";
                cmd.Set("$id", p.JobId.ToString()).Set("$org", p.OrganizationId.ToString()).Set("$after", p.AfterId).Set("$n", p.Limit + 1);
                using var r = cmd.ExecuteReader();
                while (r.Read()) lines.Add(new JobLogEntry(r.GetInt64(0), r.GetInt32(1), Time(r.GetInt64(2)), r.GetString(3)));
            }
            var more = lines.Count > p.Limit;
            if (more) lines.RemoveAt(lines.Count - 1);
            return new JobLogPage(state, lines, more);
        }, cancellationToken);

    public Task<Page<Job>> ListAsync(ListJobsParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            var sort = p.Sort;
            var cursor = JobCursor.Read(p.Cursor, sort);
            var order = sort.Descending ? "DESC" : "ASC";
            var beyond = sort.Descending ? "<" : ">";
            // Creation order is the insertion sequence: seq alone, as the indexes on (organization_id, ..., seq) hold it.
            // Any other column is (key, seq), and has an index in its order: jobs_finished, and for priority, run_at and
            // attempt (organization_id, key, seq) (migration 016). Such a list walks that index from the cursor and
            // checks each job against the filters and the search, unless they keep few jobs: filters that keep fewer
            // than SortEachUpTo jobs (SearchEachUpTo with a search), or a search with fewer than SearchSortUpTo matches,
            // are read through their own index and their jobs sorted ("+key" keeps the planner off the sort's index).
            // Walking costs a page's rows divided by the share of jobs that pass: a filter that keeps 1 % of the jobs
            // reads about a hundred per row.
            var bySeq = sort.Key == JobSortKey.CreatedAt;
            var searched = p.Search is { Count: > 0 };
            var sortAfter = false;
            if (!bySeq)
            {
                sortAfter = searched
                    ? FewFiltered(c, p, SearchEachUpTo) || !ManyMatches(c, p.Search!)
                    : FewFiltered(c, p, SortEachUpTo);
                if (!sortAfter && sort.Key == JobSortKey.FinishedAt) return ListByFinishedAt(c, p, cursor);
                if (!sortAfter) return ListBySortIndex(c, p, cursor, SortIndex(sort.Key));
            }
            // A search with filters that leave few jobs walks those jobs and asks the FTS index about each; otherwise it
            // walks the index's matches (a common word with a filter that keeps few of them would walk them all).
            var searchEach = searched && FewFiltered(c, p, SearchEachUpTo);
            var searching = searched && !searchEach;
            var sql = new StringBuilder($"SELECT {JobColumns} FROM ");
            if (searchEach)
            {
                sql.Append("jobs WHERE organization_id = $org");
                SearchEach(sql, cmd, p);
            }
            else if (p.Search is { Count: > 0 } terms)
            {
                // In creation order the FTS index walks its matches in seq order from the cursor on, and each is looked
                // up and filtered: a page of a common word stops after a page of hits, a rare word has few to walk.
                // Only the seq leaves the subquery, so the job's columns (type, payload, ...) name the jobs table alone.
                sql.Append("(SELECT rowid AS hit FROM jobs_fts WHERE jobs_fts MATCH $match");
                if (bySeq && cursor is not null) sql.Append($" AND rowid {beyond} $seq");
                if (bySeq) sql.Append($" ORDER BY rowid {order}");
                sql.Append(") AS hits CROSS JOIN jobs ON jobs.seq = hits.hit WHERE organization_id = $org");
                cmd.Set("$match", JobSearch.Fts5Match(terms));
            }
            else
            {
                sql.Append("jobs WHERE organization_id = $org");
            }
            cmd.Set("$org", p.OrganizationId.ToString());
            Filters(sql, cmd, p);
            var key = SortKey(sort.Key);
            if (sort.Key == JobSortKey.FinishedAt) cmd.Set("$null_key", JobCursor.NullKey(sort));
            if (cursor is { } at)
            {
                sql.Append(bySeq ? $" AND seq {beyond} $seq" : $" AND ({key}, seq) {beyond} ($key, $seq)");
                cmd.Set("$seq", at.Seq);
                if (!bySeq) cmd.Set("$key", at.Key);
            }
            sql.Append(bySeq ? (searching ? $" ORDER BY hits.hit {order}" : $" ORDER BY seq {order}")
                : $" ORDER BY {(sortAfter ? "+" : "")}{key} {order}, seq {order}");
            sql.Append(" LIMIT $limit");
            cmd.Set("$limit", p.Limit + 1);
            cmd.CommandText = sql.ToString();
            var rows = new List<(Job Job, long Seq)>(Math.Min(p.Limit + 1, 512));
            ReadJobs(cmd, rows);
            return JobCursor.PageOf(rows, p);
        }, cancellationToken);

    /// <summary>
    /// A list by finished_at. One query ordered by the time would sort every job of the organization for each page (over
    /// a million jobs, more than a second); instead the finished jobs come in order from jobs_finished
    /// (organization_id, finished_at, and its rowid, seq, for ties), then the unfinished ones (no finished_at, last in
    /// both directions) in creation order through the state indexes. A state filter reads only its side. Used when the
    /// filters keep many jobs (ListAsync sorts the few otherwise); a search asks the FTS index about each job read.
    /// </summary>
    private static Page<Job> ListByFinishedAt(SqliteConnection c, ListJobsParams p, (long Key, long Seq)? cursor)
    {
        var (readFinished, readUnfinished, amongUnfinished) = JobCursor.FinishedAtParts(p, cursor);
        var (order, beyond) = p.Sort.Descending ? ("DESC", "<") : ("ASC", ">");
        var rows = new List<(Job Job, long Seq)>(Math.Min(p.Limit + 1, 512));
        if (readFinished)
        {
            using var cmd = c.CreateCommand();
            var sql = SelectJobs(cmd, p, "jobs INDEXED BY jobs_finished", " AND finished_at IS NOT NULL");
            if (cursor is { } from)
            {
                sql.Append($" AND (finished_at, seq) {beyond} ($key, $seq)");
                cmd.Set("$key", from.Key).Set("$seq", from.Seq);
            }
            cmd.CommandText = sql.Append($" ORDER BY finished_at {order}, seq {order} LIMIT $limit").ToString();
            cmd.Set("$limit", p.Limit + 1);
            ReadJobs(cmd, rows);
        }
        if (rows.Count <= p.Limit && readUnfinished)
        {
            using var cmd = c.CreateCommand();
            var unfinished = string.Join(", ", JobStates.All.Where(x => !x.IsTerminal()).Select(x => $"'{x.ToWire()}'"));
            var sql = SelectJobs(cmd, p, "jobs", $" AND state IN ({unfinished}) AND finished_at IS NULL");
            if (amongUnfinished)
            {
                sql.Append($" AND seq {beyond} $seq");
                cmd.Set("$seq", cursor!.Value.Seq);
            }
            cmd.CommandText = sql.Append($" ORDER BY seq {order} LIMIT $limit").ToString();
            cmd.Set("$limit", p.Limit + 1 - rows.Count);
            ReadJobs(cmd, rows);
        }
        return JobCursor.PageOf(rows, p);
    }

    /// <summary>
    /// A list by priority, run_at or attempt that walks the sort's index on (organization_id, key, seq): after a cursor,
    /// the rest of its key's ties first (by seq), then the keys beyond it. Two seeks: one condition
    /// "(key, seq) &lt; ($key, $seq)" would seek on the key alone and walk all its ties from the far end (a page deep
    /// into a million jobs of priority 0 would read most of them).
    /// </summary>
    private static Page<Job> ListBySortIndex(SqliteConnection c, ListJobsParams p, (long Key, long Seq)? cursor, string index)
    {
        var column = SortKey(p.Sort.Key);
        var (order, beyond) = p.Sort.Descending ? ("DESC", "<") : ("ASC", ">");
        var rows = new List<(Job Job, long Seq)>(Math.Min(p.Limit + 1, 512));
        foreach (var ties in cursor is null ? [false] : new[] { true, false })
        {
            if (rows.Count > p.Limit) break;
            using var cmd = c.CreateCommand();
            var sql = SelectJobs(cmd, p, $"jobs INDEXED BY {index}", "");
            if (cursor is { } at)
            {
                sql.Append(ties ? $" AND {column} = $key AND seq {beyond} $seq" : $" AND {column} {beyond} $key");
                cmd.Set("$key", at.Key).Set("$seq", at.Seq);
            }
            cmd.CommandText = sql.Append($" ORDER BY {column} {order}, seq {order} LIMIT $limit").ToString();
            cmd.Set("$limit", p.Limit + 1 - rows.Count);
            ReadJobs(cmd, rows);
        }
        return JobCursor.PageOf(rows, p);
    }

    private static void ReadJobs(SqliteCommand cmd, List<(Job Job, long Seq)> rows)
    {
        using var r = cmd.ExecuteReader();
        while (r.Read()) rows.Add((Job(r), r.GetInt64(0)));
    }


    /// <summary>How many jobs a search may ask the FTS index about one by one: each costs a seek into every term's list.</summary>
    private const int SearchEachUpTo = 2_000;

    /// <summary>
    /// How many jobs a filtered list by priority, run_at or attempt sorts rather than walking the sort's index: sorting
    /// 5,000 costs a few milliseconds, and a filter that keeps more than 5,000 of 1,000,000 jobs finds a page's rows
    /// within about 10,000 entries of that index (fewer the more jobs it keeps).
    /// </summary>
    private const int SortEachUpTo = 5_000;

    /// <summary>
    /// How many matches a search sorted by another column than creation sorts rather than walking the sort's index and
    /// asking the FTS index about each job (tens of microseconds each): with more, a page's rows are found within
    /// about 50 jobs per row over 1,000,000.
    /// </summary>
    private const int SearchSortUpTo = 20_000;

    /// <summary>The index on (organization_id, key, seq) of priority, run_at or attempt (migration 016).</summary>
    private static string SortIndex(JobSortKey key) => key switch
    {
        JobSortKey.Priority => "jobs_org_priority",
        JobSortKey.RunAt => "jobs_org_run_at",
        JobSortKey.Attempt => "jobs_org_attempt",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    /// <summary>Whether the FTS index has at least <see cref="SearchSortUpTo"/> matches of the words (of every organization: counted there, stopping at that).</summary>
    private static bool ManyMatches(SqliteConnection c, IReadOnlyList<string> terms)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM (SELECT 1 FROM jobs_fts WHERE jobs_fts MATCH $match LIMIT $cap)";
        cmd.Set("$match", JobSearch.Fts5Match(terms)).Set("$cap", SearchSortUpTo);
        return (long)cmd.ExecuteScalar()! >= SearchSortUpTo;
    }

    /// <summary>
    /// The SELECT of the organization's jobs from <paramref name="from"/> (the table, or an index to read it by) that
    /// match <paramref name="where"/>, the list's filters and its search (asked of the FTS index job by job).
    /// </summary>
    private static StringBuilder SelectJobs(SqliteCommand cmd, ListJobsParams p, string from, string where)
    {
        var sql = new StringBuilder($"SELECT {JobColumns} FROM {from} WHERE organization_id = $org{where}");
        cmd.Set("$org", p.OrganizationId.ToString());
        Filters(sql, cmd, p);
        SearchEach(sql, cmd, p);
        return sql;
    }

    /// <summary>With a search, the condition that asks the FTS index whether each job the query reads matches (a seek per job).</summary>
    private static void SearchEach(StringBuilder sql, SqliteCommand cmd, ListJobsParams p)
    {
        if (p.Search is not { Count: > 0 } terms) return;
        sql.Append(" AND EXISTS (SELECT 1 FROM jobs_fts WHERE jobs_fts MATCH $match AND rowid = jobs.seq)");
        cmd.Set("$match", JobSearch.Fts5Match(terms));
    }

    /// <summary>
    /// Whether the list's indexed filters (state, queue, type, tag) leave fewer than <paramref name="cap"/> jobs:
    /// counted through their indexes, stopping there. False without any of those filters.
    /// </summary>
    private static bool FewFiltered(SqliteConnection c, ListJobsParams p, int cap)
    {
        if (p.State is null && p.Queue is null && p.Type is null && p.Tag is null) return false;
        using var cmd = c.CreateCommand();
        var sql = new StringBuilder("SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE organization_id = $org");
        cmd.Set("$org", p.OrganizationId.ToString());
        IndexedFilters(sql, cmd, p);
        sql.Append(" LIMIT $cap)");
        cmd.Set("$cap", cap);
        cmd.CommandText = sql.ToString();
        return (long)cmd.ExecuteScalar()! < cap;
    }

    /// <summary>Every filter of the list but the search: <see cref="IndexedFilters"/> and the creation-time range.</summary>
    private static void Filters(StringBuilder sql, SqliteCommand cmd, ListJobsParams p)
    {
        IndexedFilters(sql, cmd, p);
        if (p.CreatedAfter is { } after) { sql.Append(" AND created_at >= $after"); cmd.Set("$after", Ms(after)); }
        if (p.CreatedBefore is { } before) { sql.Append(" AND created_at < $before"); cmd.Set("$before", Ms(before)); }
    }

    /// <summary>The list's filters that an index on jobs (or job_tags) answers: state, queue, type and tag.</summary>
    private static void IndexedFilters(StringBuilder sql, SqliteCommand cmd, ListJobsParams p)
    {
        if (p.State is { } state) { sql.Append(" AND state = $state"); cmd.Set("$state", state.ToWire()); }
        if (p.Queue is { } queue) { sql.Append(" AND queue = $queue"); cmd.Set("$queue", queue); }
        if (p.Type is { } type) { sql.Append(" AND type = $type"); cmd.Set("$type", type); }
        if (p.Tag is { } tag)
        {
            sql.Append(" AND seq IN (SELECT job_seq FROM job_tags WHERE organization_id = $org AND tag = $tag)");
            cmd.Set("$tag", tag);
        }
    }

    /// <summary>The expression a list is ordered by (with seq after it); a missing finished_at is <c>$null_key</c> (<see cref="JobCursor.NullKey"/>).</summary>
    private static string SortKey(JobSortKey key) => key switch
    {
        JobSortKey.CreatedAt => "seq",
        JobSortKey.RunAt => "run_at",
        JobSortKey.FinishedAt => "COALESCE(finished_at, $null_key)",
        JobSortKey.Priority => "priority",
        JobSortKey.Attempt => "attempt",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    public Task<DueTimes> NextDueAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT (SELECT MIN(run_at) FROM jobs WHERE state IN ('scheduled', 'retrying')), " +
                              "(SELECT MIN(lease_expires_at) FROM jobs WHERE state = 'running')";
            using var r = cmd.ExecuteReader();
            r.Read();
            return new DueTimes(TimeOrNull(r, 0), TimeOrNull(r, 1));
        }, cancellationToken);

    public Task<JobStats> StatsAsync(StatsParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            var counts = new Dictionary<string, IReadOnlyDictionary<JobState, long>>(StringComparer.Ordinal);
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT queue, state, COUNT(*) FROM jobs WHERE organization_id = $org GROUP BY queue, state";
                cmd.Set("$org", p.OrganizationId.ToString());
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    var queue = r.GetString(0);
                    if (!counts.TryGetValue(queue, out var perState))
                    {
                        perState = JobStates.All.ToDictionary(s => s, _ => 0L);
                        counts[queue] = perState;
                    }
                    ((Dictionary<JobState, long>)perState)[JobStates.Parse(r.GetString(1))] = r.GetInt64(2);
                }
            }
            var finished = new Dictionary<string, long>(StringComparer.Ordinal);
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT queue, COUNT(*) FROM jobs WHERE organization_id = $org AND finished_at >= $since " +
                                  "AND state IN ('succeeded', 'failed') GROUP BY queue";
                cmd.Set("$org", p.OrganizationId.ToString()).Set("$since", Ms(store.Time.GetUtcNow().AddMinutes(-1)));
                using var r = cmd.ExecuteReader();
                while (r.Read()) finished[r.GetString(0)] = r.GetInt64(1);
            }
            return new JobStats(counts, finished);
        }, cancellationToken);

    // ---------------------------------------------------------------- lease

    public Task<LeaseResult> LeaseAsync(LeaseParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Lease(ctx, p), cancellationToken);

    private static LeaseResult Lease(WriteContext ctx, LeaseParams p)
    {
        var org = p.OrganizationId.ToString();
        var now = ctx.Now;
        var nowMs = Ms(now);
        var workerState = TouchWorker(ctx, org, p.WorkerId.ToString(), nowMs);
        if (workerState is null) return new LeaseResult(false, [], null);
        if (workerState != "active") return new LeaseResult(true, [], null) { WorkerActive = false };

        DateTimeOffset? limitedUntil = null;
        var candidates = new List<(long Seq, int Priority)>();
        foreach (var name in p.Queues.Distinct(StringComparer.Ordinal))
        {
            var queue = SqliteQueueStore.Get(ctx, org, name);
            if (queue is null || queue.Paused) continue;
            var available = p.Max;
            if (queue.ConcurrencyLimit is { } limit)
            {
                var running = (long)ctx.Cmd("SELECT COUNT(*) FROM jobs WHERE organization_id = $org AND queue = $queue AND state = 'running'")
                    .Set("$org", org).Set("$queue", name).ExecuteScalar()!;
                available = (int)Math.Min(available, limit - running);
            }
            if (available > 0 && queue.RateLimit is { } rate && queue.RatePeriodMs is { } period)
            {
                var window = ctx.Cmd("SELECT COUNT(*), MIN(started_at) FROM job_attempts WHERE organization_id = $org AND queue = $queue AND started_at > $since")
                    .Set("$org", org).Set("$queue", name).Set("$since", nowMs - period);
                using var r = window.ExecuteReader();
                r.Read();
                var started = r.GetInt64(0);
                if (started >= rate)
                {
                    var until = Time(r.GetInt64(1) + period);
                    if (limitedUntil is null || until < limitedUntil) limitedUntil = until;
                }
                available = (int)Math.Min(available, rate - started);
            }
            if (available <= 0) continue;
            var ready = ctx.Cmd("SELECT seq, priority FROM jobs WHERE organization_id = $org AND queue = $queue AND state = 'queued' " +
                                "ORDER BY priority DESC, seq LIMIT $n");
            ready.Set("$org", org).Set("$queue", name).Set("$n", available);
            using (var r = ready.ExecuteReader())
            {
                while (r.Read()) candidates.Add((r.GetInt64(0), r.GetInt32(1)));
            }
        }
        if (candidates.Count == 0) return new LeaseResult(true, [], limitedUntil);
        if (p.Queues.Count > 1)
        {
            candidates.Sort((a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Seq.CompareTo(b.Seq));
        }
        var take = Math.Min(p.Max, candidates.Count);
        var decision = JobStateMachine.Decide(new JobSnapshot(JobState.Queued, 0, 0, false), JobTrigger.Lease);
        if (!decision.Allowed) return new LeaseResult(true, [], limitedUntil);

        // All chosen jobs in one statement (compare-and-set on state = 'queued'), each with a random lease token of its
        // own, then their attempt records in one more.
        var seqs = new System.Text.StringBuilder("[");
        for (var i = 0; i < take; i++)
        {
            if (i > 0) seqs.Append(',');
            seqs.Append(candidates[i].Seq);
        }
        var chosen = seqs.Append(']').ToString();
        var update = ctx.Cmd("UPDATE jobs SET state = $state, attempt = attempt + 1, worker_id = $worker, lease_token = lower(hex(randomblob(16))), " +
                             "lease_expires_at = MIN($now + $lease_ms, CASE WHEN timeout_ms IS NULL THEN $now + $lease_ms ELSE $now + timeout_ms END), " +
                             "lease_ms = $lease_ms, started_at = $now, finished_at = NULL, progress_percent = NULL, progress_message = NULL, cancel_requested = 0 " +
                             $"WHERE seq IN (SELECT value FROM json_each($seqs)) AND state = 'queued' RETURNING {JobColumns}");
        update.Set("$state", decision.To.ToWire()).Set("$worker", p.WorkerId.ToString()).Set("$now", nowMs).Set("$lease_ms", p.LeaseMs).Set("$seqs", chosen);
        var leased = new List<(long Seq, int Priority, LeasedJob Job)>(take);
        using (var r = update.ExecuteReader())
        {
            while (r.Read())
            {
                var job = Job(r);
                leased.Add((r.GetInt64(0), job.Priority, new LeasedJob(job, Guid.ParseExact(r.GetString(26), "N"), job.LeaseExpiresAt!.Value)));
            }
        }
        ctx.Cmd("INSERT INTO job_attempts (job_id, number, organization_id, queue, worker_id, started_at) " +
                "SELECT id, attempt, organization_id, queue, worker_id, started_at FROM jobs WHERE seq IN (SELECT value FROM json_each($seqs)) AND state = 'running'")
            .Set("$seqs", chosen).ExecuteNonQuery();
        leased.Sort((a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Seq.CompareTo(b.Seq));
        return new LeaseResult(true, leased.ConvertAll(l => l.Job), limitedUntil);
    }

    /// <summary>A fetch is a sign of life of its worker: written at most once a second per worker. Null when the worker is unknown.</summary>
    private static string? TouchWorker(WriteContext ctx, string org, string workerId, long nowMs)
    {
        if (ctx.WorkerTouches.TryGetValue(workerId, out var t) && t.Org == org && nowMs - t.TouchedAt < 1000)
        {
            return t.State;
        }
        var state = ctx.Cmd("UPDATE workers SET last_heartbeat_at = $now, state = CASE WHEN state = 'lost' THEN 'active' ELSE state END " +
                            "WHERE id = $id AND organization_id = $org RETURNING state")
            .Set("$now", nowMs).Set("$id", workerId).Set("$org", org).ExecuteScalar() as string;
        if (state is not null)
        {
            if (ctx.WorkerTouches.Count > 100_000) ctx.WorkerTouches.Clear();
            ctx.WorkerTouches[workerId] = (org, state, nowMs);
        }
        return state;
    }

    // ---------------------------------------------------------------- completion

    public Task<CommandResult> AckAsync(AckParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Ack(ctx, p), cancellationToken);

    public Task<CommandResult> FailAsync(FailParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Fail(ctx, p), cancellationToken);

    public Task<IReadOnlyList<CommandResult>> CompleteManyAsync(CompleteManyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<CommandResult>>(ctx =>
        {
            var results = new List<CommandResult>(p.Acks.Count + p.Fails.Count);
            if (p.Acks.Count >= AckManyThreshold && p.Acks.All(a => a.OrganizationId == p.OrganizationId)) results.AddRange(AckMany(ctx, p.OrganizationId, p.Acks));
            else foreach (var a in p.Acks) results.Add(Ack(ctx, a));
            foreach (var f in p.Fails) results.Add(Fail(ctx, f));
            return results;
        }, cancellationToken);

    /// <summary>From this many acks in one call on, they are applied by two set-based statements instead of two per job.</summary>
    private const int AckManyThreshold = 4;

    /// <summary>
    /// Acks many jobs at once with the same compare-and-set as <see cref="Ack"/>: one UPDATE of the jobs that are still
    /// running under the given tokens, one UPDATE of their attempts. An ack that did not apply (stale token, unknown
    /// job, or the same job twice in the batch) gets its answer from the row as it now is.
    /// </summary>
    private static List<CommandResult> AckMany(WriteContext ctx, Guid org, IReadOnlyList<AckParams> acks)
    {
        var decision = JobStateMachine.Decide(new JobSnapshot(JobState.Running, 0, 0, false), JobTrigger.Ack);
        var now = Ms(ctx.Now);
        var items = new StringBuilder(acks.Count * 90).Append('[');
        var seen = new HashSet<Guid>(acks.Count);
        foreach (var a in acks)
        {
            // A job acked twice in one batch: the first ack applies, the second finds it no longer running.
            if (!seen.Add(a.JobId)) continue;
            if (items.Length > 1) items.Append(',');
            items.Append("[\"").Append(a.JobId.ToString()).Append("\",\"").Append(a.LeaseToken.ToString("N")).Append("\",")
                .Append(a.Result is null ? "null" : JsonSerializer.Serialize(a.Result)).Append(']');
        }
        items.Append(']');
        var update = ctx.Cmd("UPDATE jobs SET state = $state, result = x.result, finished_at = $now, lease_token = NULL, lease_expires_at = NULL " +
                             "FROM (SELECT value ->> 0 AS id, value ->> 1 AS token, value ->> 2 AS result FROM json_each($items)) AS x " +
                             // The unary + keeps the planner on the id index, one lookup per item, instead of scanning the running jobs.
                             "WHERE jobs.id = x.id AND +jobs.organization_id = $org AND +jobs.state = 'running' AND jobs.lease_token = x.token " +
                             "RETURNING jobs.seq, jobs.id, jobs.queue, jobs.type, jobs.attempt, jobs.max_attempts, jobs.worker_id, jobs.started_at, jobs.workflow_id");
        update.Set("$state", decision.To.ToWire()).Set("$now", now).Set("$items", items.ToString()).Set("$org", org.ToString());
        var applied = new Dictionary<Guid, Row>(acks.Count);
        var attempts = new StringBuilder(acks.Count * 48).Append('[');
        using (var r = update.ExecuteReader())
        {
            while (r.Read())
            {
                var id = Guid.Parse(r.GetString(1));
                applied[id] = new Row(r.GetInt64(0), id, org, r.GetString(2), r.GetString(3), JobState.Running, r.GetInt32(4), r.GetInt32(5),
                    false, null, null, r.IsDBNull(7) ? null : r.GetInt64(7), null, GuidOrNull(r, 6), GuidOrNull(r, 8));
                if (attempts.Length > 1) attempts.Append(',');
                attempts.Append("[\"").Append(id.ToString()).Append("\",").Append(r.GetInt32(4).ToString(CultureInfo.InvariantCulture)).Append(']');
            }
        }
        attempts.Append(']');
        if (applied.Count > 0)
        {
            ctx.Cmd("UPDATE job_attempts SET finished_at = $now, outcome = 'succeeded', error_message = NULL, error_type = NULL, error_stack = NULL " +
                    "FROM (SELECT value ->> 0 AS job_id, value ->> 1 AS number FROM json_each($items)) AS x " +
                    "WHERE job_attempts.job_id = x.job_id AND job_attempts.number = x.number")
                .Set("$now", now).Set("$items", attempts.ToString()).ExecuteNonQuery();
        }
        var results = new List<CommandResult>(acks.Count);
        foreach (var a in acks)
        {
            if (applied.Remove(a.JobId, out var row))
            {
                results.Add(Settled(ctx, row, Applied(row, decision)));
                continue;
            }
            var current = Load(ctx, org, a.JobId);
            results.Add(current is null ? CommandResult.NotFound(a.JobId) : new CommandResult(a.JobId, CommandStatus.StaleLease, current.State, null));
        }
        return results;
    }

    /// <summary>The fields of a job row that commands need.</summary>
    private sealed record Row(long Seq, Guid Id, Guid OrganizationId, string Queue, string Type, JobState State, int Attempt, int MaxAttempts,
        bool CancelRequested, string? LeaseToken, int? TimeoutMs, long? StartedAt, long? LeaseMs, Guid? WorkerId, Guid? WorkflowId = null)
    {
        public JobSnapshot Snapshot => new(State, Attempt, MaxAttempts, CancelRequested, WorkflowId is not null);
    }

    private static Row? Load(WriteContext ctx, Guid org, Guid id)
    {
        var rows = ReadRows(ctx.Cmd(RowsWhere + "id = $id AND organization_id = $org").Set("$id", id.ToString()).Set("$org", org.ToString()));
        return rows.Count == 0 ? null : rows[0];
    }

    private static Row ReadRow(SqliteDataReader r, Guid id, Guid org) => new(
        r.GetInt64(0), id, org, r.GetString(1), r.GetString(2), JobStates.Parse(r.GetString(3)), r.GetInt32(4), r.GetInt32(5),
        r.GetInt64(6) != 0, StringOrNull(r, 7), IntOrNull(r, 8), r.IsDBNull(9) ? null : r.GetInt64(9), r.IsDBNull(10) ? null : r.GetInt64(10),
        GuidOrNull(r, 11), GuidOrNull(r, 14));

    private const string RowsWhere =
        "SELECT seq, queue, type, state, attempt, max_attempts, cancel_requested, lease_token, timeout_ms, started_at, lease_ms, worker_id, id, organization_id, workflow_id " +
        "FROM jobs WHERE ";

    /// <summary>Rows of a query that starts with <see cref="RowsWhere"/>, across organizations (maintenance).</summary>
    private static List<Row> ReadRows(SqliteCommand select)
    {
        var rows = new List<Row>();
        using var r = select.ExecuteReader();
        while (r.Read()) rows.Add(ReadRow(r, Guid.Parse(r.GetString(12)), Guid.Parse(r.GetString(13))));
        return rows;
    }

    /// <summary>Loads a running job whose lease token matches, or says why not.</summary>
    private static (Row? Row, CommandResult? Refusal) LoadLeased(WriteContext ctx, Guid org, Guid id, Guid token)
    {
        var row = Load(ctx, org, id);
        if (row is null) return (null, CommandResult.NotFound(id));
        if (row.State != JobState.Running || !string.Equals(row.LeaseToken, token.ToString("N"), StringComparison.Ordinal))
        {
            return (null, new CommandResult(id, CommandStatus.StaleLease, row.State, null));
        }
        return (row, null);
    }

    private static CommandResult Ack(WriteContext ctx, AckParams p)
    {
        // Compare-and-set in one statement: succeeded only if still running under this lease token.
        var decision = JobStateMachine.Decide(new JobSnapshot(JobState.Running, 0, 0, false), JobTrigger.Ack);
        var now = Ms(ctx.Now);
        var update = ctx.Cmd("UPDATE jobs SET state = $state, result = $result, finished_at = $now, lease_token = NULL, lease_expires_at = NULL " +
                             "WHERE id = $id AND organization_id = $org AND state = 'running' AND lease_token = $token " +
                             "RETURNING seq, queue, type, attempt, max_attempts, worker_id, started_at, workflow_id");
        update.Set("$state", decision.To.ToWire()).Set("$result", p.Result).Set("$now", now).Set("$id", p.JobId.ToString())
            .Set("$org", p.OrganizationId.ToString()).Set("$token", p.LeaseToken.ToString("N"));
        Row row;
        using (var r = update.ExecuteReader())
        {
            if (!r.Read())
            {
                var current = Load(ctx, p.OrganizationId, p.JobId);
                return current is null ? CommandResult.NotFound(p.JobId) : new CommandResult(p.JobId, CommandStatus.StaleLease, current.State, null);
            }
            row = new Row(r.GetInt64(0), p.JobId, p.OrganizationId, r.GetString(1), r.GetString(2), JobState.Running, r.GetInt32(3), r.GetInt32(4),
                false, null, null, r.IsDBNull(6) ? null : r.GetInt64(6), null, GuidOrNull(r, 5), GuidOrNull(r, 7));
        }
        FinishAttempt(ctx, row, now, "succeeded", null);
        return Settled(ctx, row, Applied(row, decision));
    }

    private CommandResult Fail(WriteContext ctx, FailParams p)
    {
        var (row, refusal) = LoadLeased(ctx, p.OrganizationId, p.JobId, p.LeaseToken);
        return row is null ? refusal! : FailRow(ctx, row, p.Failure);
    }

    /// <summary>A failed attempt, reported or not: the state machine decides whether the job retries, fails or is cancelled.</summary>
    private CommandResult FailRow(WriteContext ctx, Row row, Failure failure)
    {
        var now = ctx.Now;
        var decision = JobStateMachine.Fail(row.Snapshot, failure, store.RetryPolicy, now);
        if (!decision.Allowed) return new CommandResult(row.Id, CommandStatus.InvalidState, row.State, null);
        var nowMs = Ms(now);
        ctx.Cmd("UPDATE jobs SET state = $state, run_at = COALESCE($run_at, run_at), finished_at = $finished, lease_token = NULL, lease_expires_at = NULL, " +
                "error_message = $message, error_type = $type, error_stack = $stack WHERE seq = $seq")
            .Set("$state", decision.To.ToWire()).Set("$run_at", decision.RunAt is { } at ? Ms(at) : null)
            .Set("$finished", decision.To.IsTerminal() ? nowMs : null)
            .Set("$message", failure.Error.Message).Set("$type", failure.Error.Type).Set("$stack", failure.Error.Stack)
            .Set("$seq", row.Seq).ExecuteNonQuery();
        FinishAttempt(ctx, row, nowMs, decision.To == JobState.Cancelled ? "cancelled" : "failed", failure.Error);
        return Settled(ctx, row, new CommandResult(row.Id, CommandStatus.Applied, decision.To, Change(row, decision) with { Error = failure.Error }));
    }

    private static void FinishAttempt(WriteContext ctx, Row row, long now, string outcome, JobError? error) =>
        ctx.Cmd("UPDATE job_attempts SET finished_at = $now, outcome = $outcome, error_message = $message, error_type = $type, error_stack = $stack " +
                "WHERE job_id = $job AND number = $number")
            .Set("$now", now).Set("$outcome", outcome).Set("$message", error?.Message).Set("$type", error?.Type).Set("$stack", error?.Stack)
            .Set("$job", row.Id.ToString()).Set("$number", row.Attempt).ExecuteNonQuery();

    private static JobChange Change(Row row, Decision decision) =>
        new(row.OrganizationId, row.Id, row.Queue, row.Type, row.State, decision.To, row.Attempt)
        {
            WorkerId = row.WorkerId,
            RunAt = decision.RunAt,
            Removed = decision.Removes,
            CancelRequested = decision.CancelRequested,
            StartedAt = row.State == JobState.Running && row.StartedAt is { } started ? Time(started) : null,
            WorkflowId = row.WorkflowId,
        };

    /// <summary>
    /// A workflow step that reached a final state settles its workflow in the same write (<see cref="SqliteWorkflowStore.Settle"/>):
    /// the result carries the other steps' transitions, and its change the workflow's outcome when this finished it.
    /// Jobs of no workflow pass straight through.
    /// </summary>
    private static CommandResult Settled(WriteContext ctx, Row row, CommandResult result)
    {
        if (row.WorkflowId is not { } workflowId || result.Change is not { } change || !change.To.IsTerminal() || change.Removed) return result;
        var (cascade, outcome) = SqliteWorkflowStore.Settle(ctx, row.OrganizationId, row.Id, workflowId, change.To);
        return result with { Change = outcome is null ? change : change with { WorkflowOutcome = outcome }, Cascade = cascade };
    }

    /// <summary>A pending workflow step whose parents are all done starts (queued now); null when it is not pending.</summary>
    internal static JobChange? PromoteStep(WriteContext ctx, Guid org, Guid jobId)
    {
        var row = Load(ctx, org, jobId);
        if (row is null) return null;
        var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.ParentsDone);
        if (!decision.Allowed) return null;
        var now = ctx.Now;
        ctx.Cmd("UPDATE jobs SET state = $state, run_at = $now WHERE seq = $seq").Set("$state", decision.To.ToWire()).Set("$now", Ms(now)).Set("$seq", row.Seq).ExecuteNonQuery();
        return Change(row, decision) with { RunAt = now };
    }

    /// <summary>The waiting (pending) descendants of a workflow step are cancelled: a step they depend on will not succeed.</summary>
    internal static List<JobChange> CancelWaiting(WriteContext ctx, Guid jobId)
    {
        var rows = ReadRows(ctx.Cmd(RowsWhere +
            "id IN (WITH RECURSIVE d(id) AS (SELECT child_job_id FROM workflow_edges WHERE parent_job_id = $job " +
            "UNION SELECT e.child_job_id FROM workflow_edges e JOIN d ON e.parent_job_id = d.id) SELECT id FROM d) AND state = 'pending' ORDER BY seq")
            .Set("$job", jobId.ToString()));
        var changes = new List<JobChange>(rows.Count);
        var now = Ms(ctx.Now);
        foreach (var row in rows)
        {
            var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.Cancel);
            if (!decision.Allowed || decision.To != JobState.Cancelled) continue;
            ctx.Cmd("UPDATE jobs SET state = $state, finished_at = $now WHERE seq = $seq")
                .Set("$state", decision.To.ToWire()).Set("$now", now).Set("$seq", row.Seq).ExecuteNonQuery();
            changes.Add(Change(row, decision));
        }
        return changes;
    }

    private static CommandResult Applied(Row row, Decision decision) =>
        new(row.Id, CommandStatus.Applied, decision.Removes ? null : decision.To, Change(row, decision));

    // ---------------------------------------------------------------- heartbeat and logs

    public Task<JobHeartbeatResult> HeartbeatAsync(JobHeartbeatParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Heartbeat(ctx, p.OrganizationId, p.JobId, p.LeaseToken, p.ExtendMs, p.Progress), cancellationToken);

    public Task<IReadOnlyList<JobHeartbeatResult>> HeartbeatManyAsync(HeartbeatManyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<JobHeartbeatResult>>(
            ctx => [.. p.Leases.Select(l => Heartbeat(ctx, p.OrganizationId, l.JobId, l.LeaseToken, p.ExtendMs, null))], cancellationToken);

    private static JobHeartbeatResult Heartbeat(WriteContext ctx, Guid org, Guid jobId, Guid token, int? extendMs, JobProgress? progress)
    {
        var (row, refusal) = LoadLeased(ctx, org, jobId, token);
        if (row is null) return new JobHeartbeatResult(refusal!.Status, false, null);
        var now = Ms(ctx.Now);
        var extend = extendMs ?? row.LeaseMs ?? 30_000;
        var expires = now + extend;
        if (row.TimeoutMs is { } timeout && row.StartedAt is { } started)
        {
            expires = Math.Min(expires, started + timeout);
        }
        ctx.Cmd("UPDATE jobs SET lease_expires_at = $expires, progress_percent = COALESCE($percent, progress_percent), " +
                "progress_message = CASE WHEN $percent IS NULL THEN progress_message ELSE $message END WHERE seq = $seq")
            .Set("$expires", expires).Set("$percent", progress?.Percent).Set("$message", progress?.Message).Set("$seq", row.Seq)
            .ExecuteNonQuery();
        return new JobHeartbeatResult(CommandStatus.Applied, row.CancelRequested, Time(expires));
    }

    public Task<CommandResult> AppendLogsAsync(AppendLogsParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var (row, refusal) = LoadLeased(ctx, p.OrganizationId, p.JobId, p.LeaseToken);
            if (row is null) return refusal!;
            var insert = ctx.Cmd("INSERT INTO job_logs (organization_id, job_id, attempt, at, line) VALUES ($org, $job, $attempt, $at, $line)");
            var now = Ms(ctx.Now);
            foreach (var line in p.Lines)
            {
                insert.Set("$org", row.OrganizationId.ToString()).Set("$job", row.Id.ToString()).Set("$attempt", row.Attempt).Set("$at", now).Set("$line", line).ExecuteNonQuery();
            }
            return new CommandResult(row.Id, CommandStatus.Applied, row.State, null);
        }, cancellationToken);

    // ---------------------------------------------------------------- user commands

    public Task<CommandResult> CancelAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Cancel(ctx, p), cancellationToken);

    internal static CommandResult Cancel(WriteContext ctx, JobCommandParams p)
    {
        var row = Load(ctx, p.OrganizationId, p.JobId);
        if (row is null) return CommandResult.NotFound(p.JobId);
        return Settled(ctx, row, CancelRow(ctx, row));
    }

    /// <summary>Cancels one step of a workflow that is being cancelled as a whole (which counts the steps itself).</summary>
    internal static CommandResult CancelInWorkflow(WriteContext ctx, Guid org, Guid jobId) =>
        Load(ctx, org, jobId) is { } row ? CancelRow(ctx, row) : CommandResult.NotFound(jobId);

    private static CommandResult CancelRow(WriteContext ctx, Row row)
    {
        var p = new JobCommandParams(row.OrganizationId, row.Id);
        var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.Cancel);
        if (!decision.Allowed) return new CommandResult(p.JobId, CommandStatus.InvalidState, row.State, null);
        if (decision.To == JobState.Running)
        {
            ctx.Cmd("UPDATE jobs SET cancel_requested = 1 WHERE seq = $seq").Set("$seq", row.Seq).ExecuteNonQuery();
        }
        else
        {
            ctx.Cmd("UPDATE jobs SET state = $state, finished_at = $now WHERE seq = $seq")
                .Set("$state", decision.To.ToWire()).Set("$now", Ms(ctx.Now)).Set("$seq", row.Seq).ExecuteNonQuery();
        }
        return Applied(row, decision);
    }

    /// <summary>Loads the job and lets the state machine decide; an unknown job or a refused trigger comes back as the refusal.</summary>
    private static (Row Row, Decision Decision, CommandResult? Refusal) Decide(WriteContext ctx, JobCommandParams p, JobTrigger trigger)
    {
        var row = Load(ctx, p.OrganizationId, p.JobId);
        if (row is null) return (null!, default, CommandResult.NotFound(p.JobId));
        var decision = JobStateMachine.Decide(row.Snapshot, trigger);
        return decision.Allowed ? (row, decision, null) : (row, decision, new CommandResult(p.JobId, CommandStatus.InvalidState, row.State, null));
    }

    public Task<CommandResult> RetryAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Retry(ctx, p), cancellationToken);

    private static CommandResult Retry(WriteContext ctx, JobCommandParams p)
    {
        var (row, decision, refusal) = Decide(ctx, p, JobTrigger.Retry);
        if (refusal is not null) return refusal;
        // A manual retry always gets at least one more attempt; earlier attempts stay in the history.
        ctx.Cmd("UPDATE jobs SET state = $state, run_at = $now, finished_at = NULL, cancel_requested = 0, " +
                "max_attempts = MAX(max_attempts, attempt + 1) WHERE seq = $seq")
            .Set("$state", decision.To.ToWire()).Set("$now", Ms(ctx.Now)).Set("$seq", row.Seq).ExecuteNonQuery();
        return Applied(row, decision);
    }

    public Task<CommandResult> DeleteAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Delete(ctx, p), cancellationToken);

    private static CommandResult Delete(WriteContext ctx, JobCommandParams p)
    {
        var (row, decision, refusal) = Decide(ctx, p, JobTrigger.Delete);
        if (refusal is not null) return refusal;
        RemoveJob(ctx, p.OrganizationId.ToString(), row.Seq, row.Id.ToString());
        return Applied(row, decision);
    }

    /// <summary>All the commands in one write transaction of the group-commit writer.</summary>
    public Task<IReadOnlyList<CommandResult>> CommandManyAsync(CommandManyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<CommandResult>>(ctx =>
        {
            Func<WriteContext, JobCommandParams, CommandResult> apply = p.Command switch
            {
                JobCommand.Cancel => Cancel,
                JobCommand.Retry => Retry,
                JobCommand.Delete => Delete,
                _ => throw new ArgumentOutOfRangeException(nameof(p), p.Command, "unknown command"),
            };
            var results = new List<CommandResult>(p.JobIds.Count);
            foreach (var id in p.JobIds) results.Add(apply(ctx, new JobCommandParams(p.OrganizationId, id)));
            return results;
        }, cancellationToken);

    internal static void RemoveJob(WriteContext ctx, string org, long seq, string id)
    {
        ctx.Cmd("DELETE FROM job_tags WHERE organization_id = $org AND job_seq = $seq AND tag IN (SELECT value FROM json_each((SELECT tags FROM jobs WHERE seq = $seq)))")
            .Set("$org", org).Set("$seq", seq).ExecuteNonQuery();
        ctx.Cmd("DELETE FROM job_attempts WHERE job_id = $id").Set("$id", id).ExecuteNonQuery();
        ctx.Cmd("DELETE FROM job_logs WHERE job_id = $id").Set("$id", id).ExecuteNonQuery();
        ctx.Cmd("DELETE FROM jobs WHERE seq = $seq").Set("$seq", seq).ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- maintenance

    public Task<IReadOnlyList<JobChange>> ExpireLeasesAsync(ExpireLeasesParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<JobChange>>(ctx =>
        {
            var now = ctx.Now;
            var rows = ReadRows(ctx.Cmd(RowsWhere + "state = 'running' AND lease_expires_at <= $now ORDER BY lease_expires_at LIMIT $n")
                .Set("$now", Ms(now)).Set("$n", p.Limit));
            var changes = new List<JobChange>(rows.Count);
            foreach (var row in rows)
            {
                var timedOut = row.TimeoutMs is { } t && row.StartedAt is { } s && Ms(now) >= s + t;
                var failure = timedOut ? new Failure(new JobError($"timed out after {row.TimeoutMs} ms", "Timeout", null)) : Failure.LeaseExpired;
                var result = FailRow(ctx, row, failure);
                if (result.Change is { } change) changes.Add(change);
                changes.AddRange(result.Cascade);
            }
            return changes;
        }, cancellationToken);

    /// <summary>Ends the leases of a worker's running jobs (deregistered or lost): each becomes a failed attempt.</summary>
    internal IReadOnlyList<JobChange> ReleaseWorkerJobs(WriteContext ctx, string workerId, Failure failure)
    {
        var rows = ReadRows(ctx.Cmd(RowsWhere + "state = 'running' AND worker_id = $worker").Set("$worker", workerId));
        var changes = new List<JobChange>(rows.Count);
        foreach (var row in rows)
        {
            var result = FailRow(ctx, row, failure);
            if (result.Change is { } change) changes.Add(change);
            changes.AddRange(result.Cascade);
        }
        return changes;
    }

    public Task<IReadOnlyList<JobChange>> PromoteDueAsync(PromoteDueParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<IReadOnlyList<JobChange>>(ctx =>
        {
            var now = Ms(ctx.Now);
            var rows = ReadRows(ctx.Cmd(RowsWhere + "state IN ('scheduled', 'retrying') AND run_at <= $now ORDER BY run_at LIMIT $n")
                .Set("$now", now).Set("$n", p.Limit));
            var changes = new List<JobChange>(rows.Count);
            var update = ctx.Cmd("UPDATE jobs SET state = $state WHERE seq = $seq");
            foreach (var row in rows)
            {
                var decision = JobStateMachine.Decide(row.Snapshot, JobTrigger.ScheduleDue);
                if (!decision.Allowed) continue;
                update.Set("$state", decision.To.ToWire()).Set("$seq", row.Seq).ExecuteNonQuery();
                changes.Add(Change(row, decision));
            }
            return changes;
        }, cancellationToken);

}
