using System.Net.Sockets;
using Kairos.Core.Alerts;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Kairos.Server.Alerts;

/// <summary>Email over SMTP (MailKit): STARTTLS by default, implicit TLS or none as configured, with credentials when given.</summary>
public sealed class EmailChannel(ServerOptions options) : IChannelSender
{
    public AlertChannelKind Kind => AlertChannelKind.Email;

    public static MimeMessage Message(AlertChannelConfig config, AlertMessage m)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(config.From ?? throw new ChannelException("the channel has no sender address")));
        foreach (var to in config.To ?? []) message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "[Kairos] " + m.Headline;
        message.Headers.Add("X-Kairos-Dedup-Key", m.DedupKey);
        message.Body = new TextPart("plain")
        {
            Text = $"{m.Headline}\n\n{m.Summary}\n\n{m.Details}\n{m.At:yyyy-MM-dd HH:mm:ss} UTC\n",
        };
        return message;
    }

    public async Task SendAsync(AlertChannelConfig config, AlertMessage message, CancellationToken cancellationToken)
    {
        var tls = config.Tls ?? "starttls";
        var secure = tls switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        };
        var port = config.Port ?? (tls == "tls" ? 465 : 587);
        using var client = new SmtpClient { Timeout = (int)options.OutboundTimeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(config.Host ?? throw new ChannelException("the channel has no SMTP host"), port, secure, cancellationToken);
            if (config.Username is { } user) await client.AuthenticateAsync(user, config.Password ?? "", cancellationToken);
            await client.SendAsync(Message(config, message), cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ProtocolException or CommandException or AuthenticationException or SslHandshakeException
                                       or TimeoutException or ParseException)
        {
            throw new ChannelException($"SMTP {config.Host}:{port}: {ex.Message}");
        }
    }
}
