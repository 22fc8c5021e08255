using System.Collections.Concurrent;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// The logger factory the services receive: Serilog's, with one logger kept per category. Serilog's factory builds
/// a new logger (and the cache of event ids that comes with it) on every call, and some callers ask on every request:
/// the authentication handler's base class, created for each request, and the framework's results, which look their
/// logger up when they run. That was a tenth of what a status request allocated.
/// </summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider)
    {
        inner.AddProvider(provider);
        _loggers.Clear();
    }

    /// <summary>Disposes Serilog's factory, which empties the file queue and flushes the file.</summary>
    public void Dispose() => inner.Dispose();

    /// <summary>Wraps the factory the service collection registers last (Serilog's <c>AddSerilog</c> adds it as a factory method).</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory))
            ?? throw new InvalidOperationException("No ILoggerFactory is registered to keep loggers of.");
        var create = registered.ImplementationFactory
            ?? throw new InvalidOperationException("The registered ILoggerFactory is not made by a factory method; keep its loggers another way.");
        services.Remove(registered);
        services.AddSingleton<ILoggerFactory>(provider => new CachingLoggerFactory((ILoggerFactory)create(provider)));
    }
}
