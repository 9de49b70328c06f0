using System.Text.Json;
using System.Text.Json.Serialization;
using Kairos.Client;
using Samples.Producer;

// Enqueues jobs for samples/Worker and waits for them. KAIROS_URL and KAIROS_API_KEY (admin scope) from the environment.
var url = new Uri(Environment.GetEnvironmentVariable("KAIROS_URL") ?? "http://localhost:7700");
using var kairos = new KairosClient(url, Environment.GetEnvironmentVariable("KAIROS_API_KEY"));

// One line, typed payload, every option at hand.
var welcome = await kairos.EnqueueAsync("email.send", new SendEmail("ada@example.com", "Welcome", "Hello Ada!"), new EnqueueOptions
{
    Queue = "emails",
    MaxAttempts = 5,
    Tags = ["welcome"],
    UniqueKey = "welcome-ada",
});
Console.WriteLine($"email.send  {welcome.Id}  {welcome.State}{(welcome.Deduplicated == true ? " (already enqueued)" : "")}");

// Source-generated serialization (trimming and AOT friendly).
var bad = await kairos.EnqueueAsync("email.send", new SendEmail("not-an-address", "Oops", ""), PayloadJson.Default.SendEmail,
    new EnqueueOptions { Queue = "emails" });
Console.WriteLine($"email.send  {bad.Id}  {bad.State}");

// Bulk: one request for many jobs.
var resizes = await kairos.EnqueueManyAsync(Enumerable.Range(1, 5).Select(i =>
    JobRequest.Create("image.resize", new ResizeImage($"https://example.com/{i}.png", 100 * i), new EnqueueOptions { Timeout = TimeSpan.FromMinutes(1) })));
Console.WriteLine($"image.resize x{resizes.Count} enqueued");

// Wait for the worker (run samples/Worker) to finish them.
foreach (var id in resizes.Append(welcome.Id).Append(bad.Id))
{
    var job = await kairos.GetJobAsync(id);
    for (var i = 0; i < 300 && !JobStates.IsFinished(job.State); i++)
    {
        await Task.Delay(100);
        job = await kairos.GetJobAsync(id);
    }
    var outcome = job.State == JobStates.Succeeded
        ? job.Result is { } r ? r.GetRawText() : "ok"
        : job.LastError?.Message ?? "(not finished: is samples/Worker running?)";
    Console.WriteLine($"{job.Type,-12} {job.Id}  {job.State,-9}  {outcome}");
}

namespace Samples.Producer
{
    public sealed record SendEmail(string To, string Subject, string Body);

    public sealed record ResizeImage(string Url, int Width);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
    [JsonSerializable(typeof(SendEmail))]
    internal sealed partial class PayloadJson : JsonSerializerContext;
}
