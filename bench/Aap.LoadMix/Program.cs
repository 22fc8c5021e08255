using System.Diagnostics;
using Aap.LoadMix;

// The mixed load of bench/mix.sh: a closed loop of virtual users (no think time) against one AAP on the loopback
// address, for a bounded time and a bounded number of requests. See bench/mix.sh for the set-up it expects.
var options = MixOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(MixOptions.Usage);
    return 2;
}

using var http = new HttpClient(new SocketsHttpHandler
{
    // One connection per virtual user at most; never pooled away during a run.
    MaxConnectionsPerServer = options.Users + options.Admins + 4,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    UseCookies = false,
    AllowAutoRedirect = false,
})
{
    BaseAddress = new Uri(options.Url),
    Timeout = TimeSpan.FromSeconds(30),
};

var api = new Api(http);
Console.Error.WriteLine($"mix: reading the catalog of {options.Url}");
var catalog = await Catalog.ReadAsync(api);
if (catalog.AppIds.Count == 0)
{
    Console.Error.WriteLine("mix: the catalog is empty: publish apps first");
    return 1;
}

var run = new Run(options);
var stats = new Stats();
var users = new List<VirtualUser>();
var perUser = Math.Max(1, options.Accounts / options.Users);
for (var i = 0; i < options.Users; i++)
{
    // Interleaved (user i takes accounts i, i + users, i + 2 x users...), not in blocks: the users busy at any moment
    // then have neighbouring ids, as a portal's do, instead of ids a fixed stride apart that fall on few of the rows
    // AAP spreads by id (the points issued are kept in point_totals by user_id % 16).
    var accounts = Enumerable.Range(0, perUser).Select(k => options.FirstAccount + i + k * options.Users).ToArray();
    // Seeded by the user's first account, so that a warm-up or an earlier step (accounts of their own) never sends
    // the images of a later run: the same image from another account is a duplicate proof, held for review.
    users.Add(new VirtualUser(api, options, catalog, run, stats.ForWorker(), accounts, seed: accounts[0]));
}

if (options.Rate > 0)
{
    // A schedule that began with every user's password hash at once would start behind by that much.
    await Task.WhenAll(users.Select(u => u.SignInBeforeScheduleAsync()));
    run.Restart();
}

var started = Stopwatch.GetTimestamp();
var tasks = users.Select(u => Task.Run(u.RunAsync)).ToList();

for (var i = 0; i < options.Admins; i++)
{
    var seed = 1000 + i;
    tasks.Add(Task.Run(() => new Reviewer(api, options, run, stats.ForWorker(), seed).RunAsync()));
}

using (var progress = new PeriodicTimer(TimeSpan.FromSeconds(10)))
{
    var all = Task.WhenAll(tasks);
    while (!all.IsCompleted)
    {
        var tick = progress.WaitForNextTickAsync().AsTask();
        if (await Task.WhenAny(all, tick) == tick)
        {
            Console.Error.WriteLine($"mix: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s, {run.Requests} requests");
        }
    }

    await all;
}

var elapsed = Stopwatch.GetElapsedTime(started);
var report = stats.Report(elapsed, options);
Console.Write(report);
return 0;
