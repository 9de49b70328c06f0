using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>The API's JSON: snake_case names, nulls left out of requests. Source-generated for the SDK's own types.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(Page<Job>))]
[JsonSerializable(typeof(JobLogPage))]
[JsonSerializable(typeof(Queue))]
[JsonSerializable(typeof(Page<Queue>))]
[JsonSerializable(typeof(QueueSettings))]
[JsonSerializable(typeof(PurgeResult))]
[JsonSerializable(typeof(Worker))]
[JsonSerializable(typeof(Page<Worker>))]
[JsonSerializable(typeof(Stats))]
[JsonSerializable(typeof(WorkerRegistration))]
[JsonSerializable(typeof(RegisteredWorker))]
[JsonSerializable(typeof(WorkerHeartbeat))]
[JsonSerializable(typeof(FetchRequest))]
[JsonSerializable(typeof(FetchResponse))]
[JsonSerializable(typeof(JobHeartbeatBody))]
[JsonSerializable(typeof(JobHeartbeatResult))]
[JsonSerializable(typeof(BatchHeartbeatBody))]
[JsonSerializable(typeof(BatchHeartbeatResponse))]
[JsonSerializable(typeof(LogsBody))]
[JsonSerializable(typeof(AckBody))]
[JsonSerializable(typeof(FailBody))]
[JsonSerializable(typeof(CompletionResult))]
[JsonSerializable(typeof(BatchAckBody))]
[JsonSerializable(typeof(BatchAckResponse))]
[JsonSerializable(typeof(CreateJobBody))]
[JsonSerializable(typeof(BulkCreateBody))]
[JsonSerializable(typeof(BulkCreateResponse))]
[JsonSerializable(typeof(PauseBody))]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class KairosJson : JsonSerializerContext
{
    /// <summary>Payloads and results: snake_case like the API, unless the application chooses otherwise.</summary>
    public static JsonSerializerOptions PayloadDefaults { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    };
}
