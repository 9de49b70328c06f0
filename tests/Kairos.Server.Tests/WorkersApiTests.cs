using System.Net;
using Kairos.Core.Dispatch;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>Workers: register, heartbeat and its commands, list, detail with running jobs, quiet, stop, deregister, lost. Fake time.</summary>
public sealed class WorkersApiTests() : ApiTest(fakeTime: true)
{
    [Fact]
    public async Task Register_answers_201_with_an_id_and_the_worker_is_listed()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/workers", new
        {
            name = "mailer-1",
            host = "box-7",
            pid = 1234,
            queues = new[] { "emails", "sms" },
            capacity = 8,
            labels = new Dictionary<string, string> { ["region"] = "eu-west" },
            version = "2.0.1",
            unknown_field = "ignored",
        });
        var answer = await response.Expect(HttpStatusCode.Created);
        var id = answer.Str("id");
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal(30_000, answer.GetProperty("heartbeat_timeout_ms").GetInt32());
        Assert.Equal($"/api/v1/workers/{id}", response.Headers.Location?.OriginalString);

        var list = await Admin.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK);
        var w = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(id, w.Str("id"));
        Assert.Equal("mailer-1", w.Str("name"));
        Assert.Equal("box-7", w.Str("host"));
        Assert.Equal(1234, w.GetProperty("pid").GetInt32());
        Assert.Equal(["emails", "sms"], w.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Equal(8, w.GetProperty("capacity").GetInt32());
        Assert.Equal("eu-west", w.GetProperty("labels").Str("region"));
        Assert.Equal("2.0.1", w.Str("version"));
        Assert.Equal("active", w.Str("state"));
        Assert.Equal(Time.GetUtcNow(), DateTimeOffset.Parse(w.Str("registered_at"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("""{"host":"h"}""", "name")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":"w","capacity":0}""", "capacity")]
    [InlineData("""{"name":"w","queues":[""]}""", "queues[0]")]
    public async Task Register_with_bad_fields_answers_400_and_registers_nothing(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/workers", body).ExpectProblem(HttpStatusCode.BadRequest, field);
        Assert.Empty((await Admin.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Register_with_a_wrong_typed_field_answers_400_naming_it()
    {
        await Admin.PostRawAsync("/api/v1/workers", """{"name":"w","capacity":"lots"}""").ExpectBindingProblem(HttpStatusCode.BadRequest, "capacity");
        Assert.Empty((await Admin.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Get_shows_the_running_job_ids()
    {
        var run = await StartJobAsync("w");
        var w = await Admin.GetAsync($"/api/v1/workers/{run.WorkerId}").Expect(HttpStatusCode.OK);
        Assert.Equal(run.WorkerId, w.Str("id"));
        Assert.Equal([run.Id], w.GetProperty("running_job_ids").EnumerateArray().Select(x => x.GetString()));

        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        w = await Admin.GetAsync($"/api/v1/workers/{run.WorkerId}").Expect(HttpStatusCode.OK);
        Assert.Empty(w.GetProperty("running_job_ids").EnumerateArray());
    }

    [Fact]
    public async Task Heartbeat_answers_no_commands_and_records_the_time()
    {
        var id = await RegisterWorkerAsync(null, "q");
        Time.Advance(TimeSpan.FromSeconds(7));
        var beat = await Admin.PostAsync($"/api/v1/workers/{id}/heartbeat", null).Expect(HttpStatusCode.OK);
        Assert.Empty(beat.GetProperty("commands").EnumerateArray());
        Assert.Empty(beat.GetProperty("cancel_job_ids").EnumerateArray());
        var w = await Admin.GetAsync($"/api/v1/workers/{id}").Expect(HttpStatusCode.OK);
        Assert.Equal(Time.GetUtcNow(), DateTimeOffset.Parse(w.Str("last_heartbeat_at"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Quiet_is_delivered_as_a_heartbeat_command()
    {
        var id = await RegisterWorkerAsync(null, "q");
        var quiet = await Admin.PostAsync($"/api/v1/workers/{id}/quiet", null).Expect(HttpStatusCode.OK);
        Assert.Equal("quiet", quiet.Str("state"));
        var beat = await Admin.PostAsync($"/api/v1/workers/{id}/heartbeat", null).Expect(HttpStatusCode.OK);
        Assert.Equal(["quiet"], beat.GetProperty("commands").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("quiet", (await Admin.GetAsync($"/api/v1/workers/{id}").Expect(HttpStatusCode.OK)).Str("state"));
    }

    [Fact]
    public async Task A_quiet_worker_is_given_no_jobs()
    {
        var job = await EnqueueAsync("q");
        var id = await RegisterWorkerAsync(null, "q");
        await Admin.PostAsync($"/api/v1/workers/{id}/quiet", null).Expect(HttpStatusCode.OK);
        Assert.Empty(await FetchAsync(id, "q"));
        Assert.Equal("queued", (await GetJobAsync(job.Str("id"))).Str("state"));
    }

    [Fact]
    public async Task Stop_is_delivered_as_terminate()
    {
        var id = await RegisterWorkerAsync(null, "q");
        var stopped = await Admin.PostAsync($"/api/v1/workers/{id}/stop", null).Expect(HttpStatusCode.OK);
        Assert.Equal("stopped", stopped.Str("state"));
        var beat = await Admin.PostAsync($"/api/v1/workers/{id}/heartbeat", null).Expect(HttpStatusCode.OK);
        Assert.Equal(["terminate"], beat.GetProperty("commands").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Deregister_answers_204_and_its_running_job_goes_back()
    {
        var run = await StartJobAsync("dr");
        using (var deleted = await Admin.DeleteAsync($"/api/v1/workers/{run.WorkerId}"))
        {
            await deleted.Expect(HttpStatusCode.NoContent);
        }

        var job = await GetJobAsync(run.Id);
        Assert.NotEqual("running", job.Str("state"));
        Assert.Contains(job.Str("state"), new[] { "retrying", "queued" });
        var attempt = Assert.Single(job.GetProperty("attempts").EnumerateArray());
        Assert.False(attempt.IsNull("finished_at"));
        Assert.False(attempt.IsNull("error"));

        await Admin.GetAsync($"/api/v1/workers/{run.WorkerId}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync($"/api/v1/workers/{run.WorkerId}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workers/{run.WorkerId}/heartbeat", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);
        Assert.Empty((await Admin.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Another worker picks it up.
        await Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromHours(1), CancellationToken.None);
        var other = await RegisterWorkerAsync(null, "dr");
        var again = Assert.Single(await FetchAsync(other, "dr"));
        Assert.Equal(run.Id, again.Str("id"));
        Assert.Equal(2, again.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task A_worker_key_may_deregister_a_worker()
    {
        var worker = Client(await CreateKeyAsync("worker"));
        var id = await RegisterWorkerAsync(worker, "q");
        await worker.DeleteAsync($"/api/v1/workers/{id}").Expect(HttpStatusCode.NoContent);
        await Admin.GetAsync($"/api/v1/workers/{id}").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_silent_worker_becomes_lost_and_its_leases_end()
    {
        var run = await StartJobAsync("lost");
        Time.Advance(TimeSpan.FromSeconds(31));
        await Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

        var w = await Admin.GetAsync($"/api/v1/workers/{run.WorkerId}").Expect(HttpStatusCode.OK);
        Assert.Equal("lost", w.Str("state"));
        Assert.Empty(w.GetProperty("running_job_ids").EnumerateArray());
        var job = await GetJobAsync(run.Id);
        Assert.NotEqual("running", job.Str("state"));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);

        // A heartbeat brings it back.
        await Admin.PostAsync($"/api/v1/workers/{run.WorkerId}/heartbeat", null).Expect(HttpStatusCode.OK);
        Assert.Equal("active", (await Admin.GetAsync($"/api/v1/workers/{run.WorkerId}").Expect(HttpStatusCode.OK)).Str("state"));
    }

    [Theory]
    [InlineData("0190f000-0000-7000-8000-00000000abcd")]
    [InlineData("not-a-guid")]
    public async Task Unknown_or_malformed_worker_ids_answer_404(string id)
    {
        await Admin.GetAsync($"/api/v1/workers/{id}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workers/{id}/heartbeat", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workers/{id}/quiet", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workers/{id}/stop", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync($"/api/v1/workers/{id}").ExpectProblem(HttpStatusCode.NotFound);
    }
}
