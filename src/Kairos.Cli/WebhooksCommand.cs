using System.CommandLine;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos webhooks list|create|delete|test|deliveries</c>.</summary>
internal static class WebhooksCommand
{
    public static Command Create()
    {
        var webhooks = Cli.WithCommon(new Command("webhooks", "Webhook endpoints: list, create (the signing secret is shown once), delete, test, deliveries."));

        var list = new Command("list", "List the webhook endpoints.");
        Cli.Action(list, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListWebhooksAsync(500, cursor, c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No webhooks.");
                return 0;
            }
            var table = new Table().AddColumns("ID", "URL", "EVENTS", "ENABLED", "CREATED");
            foreach (var w in all)
            {
                table.AddRow(Cli.Esc(w.Id.ToString()), Cli.Esc(w.Url), Cli.Esc(string.Join(",", w.EventTypes)),
                    w.Enabled ? "yes" : Cli.Esc("no: " + w.DisabledReason), Cli.Ago(w.CreatedAt));
            }
            cli.Out.Write(table);
            return 0;
        });
        webhooks.Subcommands.Add(list);

        var url = new Argument<string>("url") { Description = "Where events are POSTed, e.g. https://example.com/kairos" };
        var events = new Option<string[]>("--event")
        {
            Description = "An event type to send: job.failed, job.*, or * (repeat for several)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var description = new Option<string?>("--description") { Description = "What the endpoint is for" };
        var create = new Command("create", "Subscribe a URL to event types; the signing secret is printed this once.") { url, events, description };
        Cli.Action(create, async (cli, ct) =>
        {
            var created = await cli.Client.CreateWebhookAsync(cli.Parse.GetValue(url)!, cli.Parse.GetValue(events) ?? [], cli.Parse.GetValue(description), ct);
            if (cli.Json)
            {
                Cli.WriteJson(created);
                return 0;
            }
            cli.Line($"Created webhook [bold]{Cli.Esc(created.Id.ToString())}[/] for {Cli.Esc(string.Join(", ", created.EventTypes))}");
            cli.Line("The signing secret, shown this once (store it now):");
            Console.Out.WriteLine(created.Secret);
            return 0;
        });
        webhooks.Subcommands.Add(create);

        var id = new Argument<string>("id") { Description = "The webhook's id (kairos webhooks list)" };
        var delete = new Command("delete", "Delete a webhook endpoint and its delivery log.") { id };
        Cli.Action(delete, async (cli, ct) =>
        {
            var webhookId = Cli.Id(cli.Parse.GetValue(id), "webhook id");
            await cli.Client.DeleteWebhookAsync(webhookId, ct);
            if (cli.Json) Cli.WriteJson(new { id = webhookId, deleted = true });
            else cli.Line($"Deleted webhook {Cli.Esc(webhookId.ToString())}");
            return 0;
        });
        webhooks.Subcommands.Add(delete);

        var testId = new Argument<string>("id") { Description = "The webhook's id" };
        var test = new Command("test", "Send a webhook.test event to the endpoint (follow it with kairos webhooks deliveries ID).") { testId };
        Cli.Action(test, async (cli, ct) =>
        {
            var delivery = await cli.Client.TestWebhookAsync(Cli.Id(cli.Parse.GetValue(testId), "webhook id"), ct);
            if (cli.Json) Cli.WriteJson(delivery);
            else cli.Line($"Sent test event {Cli.Esc(delivery.EventId)} (delivery {Cli.Esc(delivery.Id.ToString())}, {Cli.Esc(delivery.State)})");
            return 0;
        });
        webhooks.Subcommands.Add(test);

        var deliveriesId = new Argument<string>("id") { Description = "The webhook's id" };
        var deliveries = new Command("deliveries", "The endpoint's latest deliveries, newest first.") { deliveriesId };
        Cli.Action(deliveries, async (cli, ct) =>
        {
            var page = await cli.Client.ListWebhookDeliveriesAsync(Cli.Id(cli.Parse.GetValue(deliveriesId), "webhook id"), 50, null, ct);
            if (cli.Json)
            {
                Cli.WriteJson(page.Items);
                return 0;
            }
            var table = new Table().AddColumns("ID", "EVENT", "STATE", "ATTEMPTS", "LAST STATUS", "CREATED");
            foreach (var d in page.Items)
            {
                table.AddRow(Cli.Esc(d.Id.ToString()), Cli.Esc(d.EventType), Cli.Esc(d.State), d.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    d.LastStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Cli.Ago(d.CreatedAt));
            }
            cli.Out.Write(table);
            return 0;
        });
        webhooks.Subcommands.Add(deliveries);
        return webhooks;
    }
}
