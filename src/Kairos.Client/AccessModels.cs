using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>A user as the API shows it.</summary>
public sealed class UserInfo
{
    public Guid Id { get; init; }
    public string Email { get; init; } = "";
    public string Name { get; init; } = "";
}

/// <summary>An organization, with the caller's role in it (null for an API key).</summary>
public sealed class OrganizationInfo
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string? Role { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The API key a call was made with, as <c>/auth/me</c> describes it.</summary>
public sealed class MeApiKey
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Prefix { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
}

/// <summary>Who the caller is: <c>kind</c> <c>api_key</c> (with <see cref="ApiKey"/>) or <c>user</c> (with <see cref="User"/>).</summary>
public sealed class Me
{
    public string Kind { get; init; } = "";
    public UserInfo? User { get; init; }
    public MeApiKey? ApiKey { get; init; }
    public IReadOnlyList<OrganizationInfo> Organizations { get; init; } = [];
    public OrganizationInfo? CurrentOrganization { get; init; }
    public IReadOnlyList<string> Permissions { get; init; } = [];
}

/// <summary>An API key as listed: never the key itself.</summary>
public sealed class ApiKeyInfo
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Prefix { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
}

/// <summary>A new API key: <see cref="Key"/> is shown this once.</summary>
public sealed class CreatedApiKey
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Key { get; init; } = "";
    public string Prefix { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>One entry of the organization's audit log.</summary>
public sealed class AuditEntry
{
    public Guid Id { get; init; }
    public Guid? OrganizationId { get; init; }
    public DateTimeOffset Time { get; init; }
    /// <summary><c>user</c>, <c>api_key</c> or <c>system</c>.</summary>
    public string ActorType { get; init; } = "";
    public Guid? ActorId { get; init; }
    /// <summary>An email, or an API key's name and visible prefix.</summary>
    public string? ActorName { get; init; }
    /// <summary>e.g. <c>queue.pause</c>, <c>api_key.create</c>, <c>auth.login_failed</c>.</summary>
    public string Action { get; init; } = "";
    public string? TargetType { get; init; }
    public string? TargetId { get; init; }
    public string? Ip { get; init; }
    public string? RequestId { get; init; }
    /// <summary>The HTTP status the action was answered with.</summary>
    public int Status { get; init; }
    public JsonElement? Details { get; init; }
}

/// <summary>Filters of <see cref="KairosClient.ListAuditAsync"/>; every one is optional.</summary>
public sealed class AuditQuery
{
    /// <summary>An action (<c>queue.pause</c>) or every action of a kind (<c>queue.*</c>).</summary>
    public string? Action { get; set; }
    public string? ActorType { get; set; }
    public Guid? ActorId { get; set; }
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    /// <summary>Entries at or after this time.</summary>
    public DateTimeOffset? Since { get; set; }
    /// <summary>Entries before this time.</summary>
    public DateTimeOffset? Until { get; set; }
    public int? Limit { get; set; }
    public string? Cursor { get; set; }
}

internal sealed class CreateApiKeyBody
{
    public string Name { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>Source-generated JSON of the identity and audit types (snake_case, like the rest of the API).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Me))]
[JsonSerializable(typeof(Page<ApiKeyInfo>))]
[JsonSerializable(typeof(CreatedApiKey))]
[JsonSerializable(typeof(CreateApiKeyBody))]
[JsonSerializable(typeof(Page<AuditEntry>))]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class KairosAccessJson : JsonSerializerContext;
