using Serilog.Core;
using Serilog.Events;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// Puts the request's id, path and connection on every event logged while a request runs.
/// </summary>
/// <remarks>
/// ASP.NET Core's hosting begins a logging scope per request with these values when its own category
/// (<c>Microsoft.AspNetCore.Hosting.Diagnostics</c>) logs at any level; through Serilog's provider that scope is two
/// <see cref="AsyncLocal{T}"/> values set and reset per request and a walk of the scope per event. That category is
/// off (<see cref="LoggingSetup"/>), so no scope is begun, and this enricher reads the same values from the request
/// itself: the id from <see cref="HttpContext.TraceIdentifier"/> (the scope took it before the request id middleware
/// had run), the path unless the event already names one, and the connection's id unless Kestrel's scope, begun once
/// per connection rather than per request, has named it already. The values are strings, so their properties are made
/// directly rather than through the factory's conversion rules.
/// </remarks>
internal sealed class RequestEnricher(IHttpContextAccessor accessor) : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (accessor.HttpContext is not { } context)
        {
            return;
        }

        logEvent.AddOrUpdateProperty(new LogEventProperty("RequestId", new ScalarValue(context.TraceIdentifier)));
        if (!logEvent.Properties.ContainsKey("RequestPath"))
        {
            logEvent.AddPropertyIfAbsent(new LogEventProperty("RequestPath", new ScalarValue(context.Request.Path.Value ?? string.Empty)));
        }

        if (!logEvent.Properties.ContainsKey("ConnectionId"))
        {
            logEvent.AddPropertyIfAbsent(new LogEventProperty("ConnectionId", new ScalarValue(context.Connection.Id)));
        }
    }
}
