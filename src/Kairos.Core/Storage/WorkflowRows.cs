using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kairos.Core.Workflows;

namespace Kairos.Core.Storage;

/// <summary>
/// The columns of the workflow tables, the same in every store, and the domain types read from them: ids as uuid (or
/// UUID text), times as unix milliseconds, flags as boolean (or 0/1). Also the list cursor and the state filter, which
/// mirrors <see cref="WorkflowRules.Derive"/> over the counters.
/// </summary>
public static class WorkflowRows
{
    public const string Columns =
        "id, organization_id, name, steps_total, unfinished_steps, failed_steps, cancelled_steps, cancel_requested, schedule_id, created_at, updated_at, finished_at";

    public static Workflow Read(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Name = r.GetString(2),
        StepsTotal = r.GetInt32(3),
        UnfinishedSteps = r.GetInt32(4),
        FailedSteps = r.GetInt32(5),
        CancelledSteps = r.GetInt32(6),
        CancelRequested = r.GetBoolean(7),
        ScheduleId = r.IsDBNull(8) ? null : r.GetGuid(8),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
        FinishedAt = r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
    };

    /// <summary>The columns of a step: <c>step_id, position, depends_on, continue_on_failure, unfinished_parents, job_id</c>.</summary>
    public const string StepColumns = "step_id, position, depends_on, continue_on_failure, unfinished_parents, job_id";

    /// <summary>A step read from a row selected with <see cref="StepColumns"/>, without its job.</summary>
    public static WorkflowStep ReadStep(DbDataReader r) => new(
        r.GetString(0), r.GetInt32(1), JsonSerializer.Deserialize<string[]>(r.GetString(2)) ?? [], r.GetBoolean(3), r.GetInt32(4), r.GetGuid(5), null);

    public static string DependsOnJson(WorkflowStepDefinition step) => JsonSerializer.Serialize(step.DependsOn);

    /// <summary>The condition on the counters that selects workflows in <paramref name="state"/>.</summary>
    public static string StateFilter(WorkflowState state) => state switch
    {
        WorkflowState.Running => "unfinished_steps > 0",
        WorkflowState.Failed => "unfinished_steps = 0 AND failed_steps > 0",
        WorkflowState.Cancelled => "unfinished_steps = 0 AND failed_steps = 0 AND cancelled_steps > 0",
        WorkflowState.Succeeded => "unfinished_steps = 0 AND failed_steps = 0 AND cancelled_steps = 0",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    /// <summary>The id a list page continues after (newest first); throws <see cref="ArgumentException"/> naming <c>cursor</c> for a foreign one.</summary>
    public static Guid? ReadCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith("w:", StringComparison.Ordinal) && Guid.TryParse(text.AsSpan(2), CultureInfo.InvariantCulture, out var id)) return id;
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("The cursor is not one this server gave out.", nameof(cursor));
    }

    /// <summary>A page of a list read with one item more than <paramref name="limit"/>.</summary>
    public static Page<Workflow> Page(List<Workflow> items, int limit) =>
        items.Count <= limit
            ? new Page<Workflow>(items, null)
            : new Page<Workflow>(items[..limit], Convert.ToBase64String(Encoding.UTF8.GetBytes("w:" + items[limit - 1].Id.ToString())));

    /// <summary>The workflow with its steps, each with its job (those still there).</summary>
    public static Workflow WithSteps(Workflow w, List<WorkflowStep> steps, IEnumerable<Jobs.Job> jobs)
    {
        var byId = jobs.ToDictionary(j => j.Id);
        return w with { Steps = steps.ConvertAll(s => byId.TryGetValue(s.JobId, out var job) ? s with { Job = job } : s) };
    }
}
