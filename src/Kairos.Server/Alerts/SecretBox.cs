using System.Xml.Linq;
using Kairos.Core.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Kairos.Server.Alerts;

/// <summary>
/// Encrypts the secrets users give (alert channel credentials, webhook signing secrets) with ASP.NET Core Data
/// Protection before they are stored, and decrypts them when they are used. The key ring lives in the store
/// (<see cref="IKeyRingStore"/>), so every node of a cluster and the next start read the same keys; whoever can read the
/// database can read the key ring too, so the database (and its backups) must be protected as the secrets are.
/// </summary>
public sealed class SecretBox(IDataProtectionProvider provider)
{
    private const string Prefix = "dp1:";
    private readonly IDataProtector _protector = provider.CreateProtector("Kairos.Secrets.v1");

    public string Protect(string secret) => Prefix + _protector.Protect(secret);

    /// <summary>The secret in clear; a value that is not protected (never written by this box) is returned as it is.</summary>
    public string Unprotect(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal) ? _protector.Unprotect(stored[Prefix.Length..]) : stored;

    public static bool IsProtected(string? value) => value?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    /// <summary>What the API shows instead of a secret: its last four characters at most, never more.</summary>
    public static string Mask(string secret) => secret.Length >= 16 ? "••••" + secret[^4..] : "••••";
}

/// <summary>The Data Protection key ring kept in the store (<see cref="IKeyRingStore"/>).</summary>
internal sealed class StoreXmlRepository(IKairosStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. store.KeyRing.ReadAll().Select(x => XElement.Parse(x))];

    public void StoreElement(XElement element, string friendlyName) => store.KeyRing.Store(friendlyName, element.ToString(SaveOptions.DisableFormatting));
}

internal static class SecretBoxSetup
{
    public static IServiceCollection AddSecretBox(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("kairos");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new StoreXmlRepository(sp.GetRequiredService<IKairosStore>())));
        services.AddSingleton<SecretBox>();
        return services;
    }
}
