namespace Kairos.Core.Storage;

/// <summary>
/// The server's data-protection key ring (ASP.NET Core Data Protection keys as XML elements), kept in the store so that
/// every node of a cluster, and the next start, decrypts what another encrypted. Server-level: no organization.
/// </summary>
public interface IKeyRingStore
{
    /// <summary>Every stored key element, in the order stored.</summary>
    IReadOnlyList<string> ReadAll();

    /// <summary>Stores a key element under its name (a key id); storing a name again keeps the first.</summary>
    void Store(string name, string xml);
}
