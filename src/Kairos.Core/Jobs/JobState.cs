namespace Kairos.Core.Jobs;

/// <summary>The closed set of states a job can be in. Transitions are decided by <see cref="JobStateMachine"/> only.</summary>
public enum JobState
{
    /// <summary>Waits for its workflow parents to finish.</summary>
    Pending,
    /// <summary>Its run_at lies in the future.</summary>
    Scheduled,
    /// <summary>Ready to be leased by a worker.</summary>
    Queued,
    /// <summary>Leased by a worker and running.</summary>
    Running,
    /// <summary>An attempt failed; the next one is due at run_at.</summary>
    Retrying,
    /// <summary>Terminal: the handler finished successfully.</summary>
    Succeeded,
    /// <summary>Terminal: no attempts left, or a non-retryable error.</summary>
    Failed,
    /// <summary>Terminal: cancelled by a user.</summary>
    Cancelled,
}

public static class JobStates
{
    public static readonly IReadOnlyList<JobState> All = Enum.GetValues<JobState>();

    public static bool IsTerminal(this JobState state) =>
        state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>The wire and storage name of a state (<c>queued</c>, <c>running</c>, ...).</summary>
    public static string ToWire(this JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Scheduled => "scheduled",
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Retrying => "retrying",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static bool TryParse(string? value, out JobState state)
    {
        foreach (var s in All)
        {
            if (string.Equals(s.ToWire(), value, StringComparison.Ordinal))
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }

    public static JobState Parse(string value) =>
        TryParse(value, out var s) ? s : throw new FormatException($"Unknown job state '{value}'.");
}
