using Serilog.Core;
using Serilog.Events;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// Puts the request id on every event logged while a request runs. It replaces the id of the framework's own
/// logging scope, which is taken before the request id middleware has run. The id is a string, so its property is made
/// directly rather than through the factory's conversion rules.
/// </summary>
internal sealed class RequestIdEnricher(IHttpContextAccessor accessor) : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (accessor.HttpContext is { } context)
        {
            logEvent.AddOrUpdateProperty(new LogEventProperty("RequestId", new ScalarValue(context.TraceIdentifier)));
        }
    }
}
