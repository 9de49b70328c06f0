using System.Text.Json.Nodes;

namespace Kairos.Client;

/// <summary>Manifests (jobs as code): apply a set of documents, list the managed objects, unmark one (apply and unmark need an admin key).</summary>
public sealed partial class KairosClient
{
    /// <summary>
    /// Applies manifest documents (JSON: <c>kind</c>, <c>metadata.name</c>, <c>spec</c>) in one transaction: the answer
    /// lists each object's change. <paramref name="dryRun"/>: compute only. <paramref name="prune"/>: also delete the
    /// managed objects the set no longer declares. Invalid documents: a 400 whose errors name <c>manifests[i].spec.field</c>.
    /// </summary>
    public Task<ManifestApplyResult> ApplyManifestsAsync(IReadOnlyList<JsonNode?> manifests, bool dryRun = false, bool prune = false,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/manifests/apply",
            Json(new ApplyManifestsBody { Manifests = manifests, DryRun = dryRun, Prune = prune }, KairosManifestJson.Default.ApplyManifestsBody),
            KairosManifestJson.Default.ManifestApplyResult, idempotent: dryRun, cancellationToken);

    /// <summary>The objects manifests manage.</summary>
    public Task<Page<ManagedObject>> ListManagedObjectsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/manifests/managed", null, KairosManifestJson.Default.PageManagedObject, idempotent: true, cancellationToken);

    /// <summary>Unmarks a managed object (<paramref name="kind"/>: Queue, Schedule, Monitor, AlertRule, Workflow): the API may change it again.</summary>
    public Task<ManagedObject> UnmanageAsync(string kind, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/manifests/unmanage", Json(new UnmanageBody { Kind = kind, Name = name }, KairosManifestJson.Default.UnmanageBody),
            KairosManifestJson.Default.ManagedObject, idempotent: true, cancellationToken);
}
