using Kairos.Core.Alerts;

namespace Kairos.Server.Alerts;

/// <summary>What a notification says, whatever the channel.</summary>
/// <param name="Status"><c>firing</c> (new), <c>still_firing</c> (again after the cool-down), <c>resolved</c>, or <c>test</c>.</param>
/// <param name="DedupKey">The same for the whole life of an incident (PagerDuty groups trigger and resolve by it).</param>
public sealed record AlertMessage(
    string Status, Guid OrganizationId, string Rule, string Key, string Title, string? Summary, Guid? IncidentId, string DedupKey, DateTimeOffset At)
{
    public static AlertMessage Of(Incident i, string status, DateTimeOffset at) =>
        new(status, i.OrganizationId, i.RuleName, i.Key, i.Title, i.Summary, i.Id, i.DedupKey, at);

    public static AlertMessage Test(Guid organizationId, string channel, DateTimeOffset at) =>
        new("test", organizationId, "test", $"channel:{channel}", $"Test notification from Kairos to channel {channel}",
            "If you read this, the channel works.", null, $"kairos-test-{channel}", at);

    public bool Resolved => Status == "resolved";

    /// <summary>A short headline: <c>[FIRING] 3 jobs failed in queue mail</c>.</summary>
    public string Headline => Status switch
    {
        "resolved" => $"[RESOLVED] {Title}",
        "still_firing" => $"[STILL FIRING] {Title}",
        "test" => $"[TEST] {Title}",
        _ => $"[FIRING] {Title}",
    };

    public string Details => $"rule {Rule} · key {Key}" + (IncidentId is { } id ? $" · incident {id}" : "");
}

/// <summary>Sends one message to one kind of channel. Throws <see cref="ChannelException"/> when the channel refused or could not be reached.</summary>
public interface IChannelSender
{
    AlertChannelKind Kind { get; }

    Task SendAsync(AlertChannelConfig config, AlertMessage message, CancellationToken cancellationToken);
}

/// <summary>A channel that did not take a message: the reason in one line (never a secret).</summary>
public sealed class ChannelException(string message) : Exception(message);
