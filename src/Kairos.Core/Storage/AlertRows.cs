using System.Data.Common;
using System.Text.Json;
using Kairos.Core.Alerts;
using Kairos.Core.Webhooks;

namespace Kairos.Core.Storage;

/// <summary>
/// The columns of the alert and webhook tables, the same in every store, and the records read from rows selected with
/// them: ids as uuid (or UUID text), times as unix milliseconds, flags as boolean (or 0/1).
/// </summary>
public static class AlertRows
{
    public const string ChannelColumns = "id, organization_id, name, kind, config, created_at, updated_at";
    public const string RuleColumns = "id, organization_id, definition, created_at, updated_at";
    public const string IncidentColumns =
        "id, organization_id, rule_id, rule_name, alert_key, title, summary, opened_at, last_fired_at, resolved_at, last_notified_at, fire_count";
    public const string IncidentEventColumns = "seq, at, kind, message";
    public const string WindowColumns = "id, organization_id, rule, starts_at, ends_at, reason, created_at";
    public const string EndpointColumns =
        "id, organization_id, url, description, event_types, secret, enabled, disabled_reason, failing_since, created_at, updated_at";
    public const string DeliveryColumns =
        "id, organization_id, endpoint_id, event_id, event_type, body, state, attempt_count, job_id, last_status, created_at, updated_at";
    public const string AttemptColumns = "number, at, status, duration_ms, response, error, request_headers";

    private static DateTimeOffset Time(DbDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
    private static DateTimeOffset? TimeOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : Time(r, i);
    private static string? StringOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static int? IntOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);

    public static AlertChannel Channel(DbDataReader r) => new(r.GetGuid(0), r.GetGuid(1), r.GetString(2),
        AlertChannelKinds.TryParse(r.GetString(3), out var k) ? k : throw new FormatException($"Unknown channel kind '{r.GetString(3)}'."),
        r.GetString(4), Time(r, 5), Time(r, 6));

    public static AlertRule Rule(DbDataReader r) => new(r.GetGuid(0), r.GetGuid(1), AlertRuleDefinition.FromJson(r.GetString(2)), Time(r, 3), Time(r, 4));

    public static Incident Incident(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        RuleId = r.GetGuid(2),
        RuleName = r.GetString(3),
        Key = r.GetString(4),
        Title = r.GetString(5),
        Summary = StringOrNull(r, 6),
        OpenedAt = Time(r, 7),
        LastFiredAt = Time(r, 8),
        ResolvedAt = TimeOrNull(r, 9),
        LastNotifiedAt = TimeOrNull(r, 10),
        FireCount = r.GetInt64(11),
    };

    public static IncidentEvent IncidentEvent(DbDataReader r) => new(r.GetInt64(0), Time(r, 1), r.GetString(2), StringOrNull(r, 3));

    public static MaintenanceWindow Window(DbDataReader r) => new(r.GetGuid(0), r.GetGuid(1), StringOrNull(r, 2), Time(r, 3), Time(r, 4), StringOrNull(r, 5), Time(r, 6));

    public static WebhookEndpoint Endpoint(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Url = r.GetString(2),
        Description = StringOrNull(r, 3),
        EventTypes = JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [],
        SecretProtected = r.GetString(5),
        Enabled = r.GetBoolean(6),
        DisabledReason = StringOrNull(r, 7),
        FailingSince = TimeOrNull(r, 8),
        CreatedAt = Time(r, 9),
        UpdatedAt = Time(r, 10),
    };

    public static WebhookDelivery Delivery(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        EndpointId = r.GetGuid(2),
        EventId = r.GetString(3),
        EventType = r.GetString(4),
        Body = r.GetString(5),
        State = DeliveryStates.Parse(r.GetString(6)),
        AttemptCount = r.GetInt32(7),
        JobId = r.IsDBNull(8) ? null : r.GetGuid(8),
        LastStatus = IntOrNull(r, 9),
        CreatedAt = Time(r, 10),
        UpdatedAt = Time(r, 11),
    };

    public static DeliveryAttempt Attempt(DbDataReader r) =>
        new(r.GetInt32(0), Time(r, 1), IntOrNull(r, 2), r.GetInt64(3), StringOrNull(r, 4), StringOrNull(r, 5), r.GetString(6));
}
