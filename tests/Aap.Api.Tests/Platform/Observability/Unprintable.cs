namespace Aap.Api.Tests.Platform.Observability;

/// <summary>A logged value whose rendering fails: what a formatter or a sink must survive without losing the events around it.</summary>
internal sealed class Unprintable
{
    public override string ToString() => throw new InvalidOperationException("This value cannot be written.");
}
