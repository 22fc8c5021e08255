using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// An EF interceptor that, once armed, holds the first query it matches after the database has answered it, until
/// the test releases it: a way to make another request happen between a read and what the reader does next.
/// </summary>
internal sealed class CommandGate(Func<DbCommand, bool> matches) : DbCommandInterceptor
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state; // 0: idle, 1: armed, 2: used

    /// <summary>Completes when a matching query has run and is being held.</summary>
    public Task Reached => _reached.Task;

    public void Arm() => Interlocked.CompareExchange(ref _state, 1, 0);

    public void Release() => _released.TrySetResult();

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        if (matches(command) && Interlocked.CompareExchange(ref _state, 2, 1) == 1)
        {
            _reached.TrySetResult();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        return result;
    }
}
