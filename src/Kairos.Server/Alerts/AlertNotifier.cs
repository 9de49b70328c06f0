using Kairos.Core.Alerts;
using Kairos.Core.Storage;

namespace Kairos.Server.Alerts;

/// <summary>
/// Sends incidents to their rule's channels: a new or still-firing incident when the store's cool-down lets a
/// notification out, and a resolve notice for an incident that was notified. Each channel's outcome goes into the
/// incident's history (<c>notified</c>, <c>notify_failed</c>); a channel that fails does not stop the others, and is not
/// retried (the next notification after the cool-down is the next try).
/// </summary>
public sealed class AlertNotifier(IKairosStore store, IEnumerable<IChannelSender> senders, ChannelSecrets secrets, TimeProvider time, ILogger<AlertNotifier> logger)
    : IAlertNotifier
{
    private readonly Dictionary<AlertChannelKind, IChannelSender> _senders = senders.ToDictionary(s => s.Kind);

    public Task FiredAsync(AlertRule rule, IncidentFiring firing, CancellationToken cancellationToken) =>
        firing.Notify
            ? NotifyAsync(rule, firing.Incident, AlertMessage.Of(firing.Incident, firing.Opened ? "firing" : "still_firing", time.GetUtcNow()), cancellationToken)
            : Task.CompletedTask;

    public Task ResolvedAsync(AlertRule rule, Incident incident, CancellationToken cancellationToken) =>
        incident.LastNotifiedAt is null
            ? Task.CompletedTask
            : NotifyAsync(rule, incident, AlertMessage.Of(incident, "resolved", time.GetUtcNow()), cancellationToken);

    /// <summary>Sends a message to one channel as stored; null when it went out, else why not (one line, no secret).</summary>
    public async Task<string?> SendAsync(AlertChannel channel, AlertMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var config = secrets.Reveal(channel.Kind, AlertChannelConfig.FromJson(channel.ConfigJson));
            await _senders[channel.Kind].SendAsync(config, message, cancellationToken);
            return null;
        }
        catch (ChannelException ex)
        {
            return ex.Message;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "its secrets cannot be decrypted with this server's key ring: save the channel again";
        }
    }

    private async Task NotifyAsync(AlertRule rule, Incident incident, AlertMessage message, CancellationToken cancellationToken)
    {
        foreach (var name in rule.Definition.Channels)
        {
            var channel = await store.Alerts.GetChannelAsync(new NamedParams(rule.OrganizationId, name), cancellationToken);
            var error = channel is null ? "no such channel" : await SendAsync(channel, message, cancellationToken);
            if (error is not null)
            {
                logger.LogWarning("Alert {Rule}: channel {Channel} did not take the {Status} notice: {Error}", rule.Name, name, message.Status, error);
            }
            await store.Alerts.AddIncidentEventAsync(new IncidentEventParams(rule.OrganizationId, incident.Id, error is null ? "notified" : "notify_failed",
                $"{message.Status} to {name}" + (error is null ? "" : $": {error}")), cancellationToken);
        }
    }
}
