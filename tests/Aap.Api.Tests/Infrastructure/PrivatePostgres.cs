using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own, which the test may stop and start again (an outage), unlike the shared
/// server of <c>AAP_TEST_POSTGRES</c>. Made with the binaries in <c>AAP_TEST_PG_BIN</c> (initdb, pg_ctl) as the OS
/// user <c>AAP_TEST_PG_USER</c> (initdb refuses root; empty: the current user); scripts/test.sh sets both. Without
/// them the test fails with a message that says so.
/// </summary>
internal sealed class PrivatePostgres : IAsyncDisposable
{
    public const string BinVariable = "AAP_TEST_PG_BIN";
    public const string UserVariable = "AAP_TEST_PG_USER";

    private readonly string _bin;
    private readonly string? _user;
    private readonly string _data;

    private PrivatePostgres(string bin, string? user, string data, int port)
    {
        (_bin, _user, _data, Port) = (bin, user, data, port);
    }

    public int Port { get; }

    /// <summary>The <c>postgres</c> database as its superuser; a short connect timeout, so that an outage is noticed at once.</summary>
    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20;Timeout=5";

    /// <summary>Makes a fresh cluster in a temp folder and starts it on a free loopback port.</summary>
    public static async Task<PrivatePostgres> StartAsync(CancellationToken cancellationToken)
    {
        var bin = Environment.GetEnvironmentVariable(BinVariable) is { Length: > 0 } folder && File.Exists(Path.Combine(folder, "pg_ctl"))
            ? folder
            : throw new InvalidOperationException(
                $"Outage tests start PostgreSQL clusters of their own: set {BinVariable} to the folder of initdb and pg_ctl " +
                $"(e.g. /usr/lib/postgresql/15/bin) and {UserVariable} to a non-root OS user when running as root, or run scripts/test.sh, which sets both.");
        var user = Environment.GetEnvironmentVariable(UserVariable) is { Length: > 0 } name ? name : null;
        var data = Path.Combine("/tmp", $"aap-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        if (user is not null)
        {
            await RunAsync("chown", [user, data], cancellationToken);
        }

        var server = new PrivatePostgres(bin, user, data, FreePort());
        await server.AsUserAsync("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"], cancellationToken);
        await server.StartAgainAsync(cancellationToken);
        return server;
    }

    /// <summary>Starts the (stopped) cluster on its port again, and waits until it accepts connections.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken) =>
        AsUserAsync("pg_ctl", ["-D", _data, "-l", Path.Combine(_data, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start"], cancellationToken);

    /// <summary>Stops the cluster the way an operator would (<c>pg_ctl stop -m fast</c>: sessions are ended, 57P01).</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        AsUserAsync("pg_ctl", ["-D", _data, "-m", "fast", "-w", "stop"], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(_data, "postmaster.pid")))
        {
            await AsUserAsync("pg_ctl", ["-D", _data, "-m", "immediate", "-w", "stop"], CancellationToken.None);
        }

        Directory.Delete(_data, recursive: true);
    }

    private Task AsUserAsync(string program, string[] args, CancellationToken cancellationToken) =>
        _user is null
            ? RunAsync(Path.Combine(_bin, program), args, cancellationToken)
            : RunAsync("runuser", ["-u", _user, "--", Path.Combine(_bin, program), .. args], cancellationToken);

    private static async Task RunAsync(string program, string[] args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
