using Kairos.Client;
using Samples.Worker;

// A worker service: KAIROS_URL and KAIROS_API_KEY (a key with the worker scope) come from the environment.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning); // one line per request is too much
builder.Services.AddKairosClient(o =>
{
    o.BaseAddress = new Uri(builder.Configuration["KAIROS_URL"] ?? "http://localhost:7700");
    o.ApiKey = builder.Configuration["KAIROS_API_KEY"];
});
builder.Services.AddKairosWorker(o =>
    {
        o.AddQueue("default", concurrency: 8);
        o.AddQueue("emails", concurrency: 2);
    })
    .AddHandler<SendEmailHandler, SendEmail>("email.send")
    .AddHandler<ResizeImageHandler, ResizeImage, ResizeResult>("image.resize");
builder.Services.AddSingleton<IMailer, ConsoleMailer>();

await builder.Build().RunAsync();
