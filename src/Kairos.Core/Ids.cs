namespace Kairos.Core;

/// <summary>Time-sortable ids (UUIDv7) taken from the injected clock.</summary>
public static class Ids
{
    public static Guid New(TimeProvider time) => Guid.CreateVersion7(time.GetUtcNow());
}
