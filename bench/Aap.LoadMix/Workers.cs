using System.Globalization;
using System.Net.Http.Headers;

namespace Aap.LoadMix;

/// <summary>
/// A user in a closed loop: signs in to one of its accounts, then reads the catalog, completes apps (each with a new
/// screenshot) and sends points to other accounts, one request after the other with no pause, or with a rate at the
/// slots of the run's schedule. In the completions mode it only completes apps. An account that has completed every
/// app hands over to the next one of its share, which signs in and completes in the same turn.
/// </summary>
internal sealed class VirtualUser(Api api, MixOptions options, Catalog catalog, Run run, Recorder recorder, int[] accounts, int seed)
{
    private readonly Random _random = new(seed);
    private readonly int[] _completed = new int[accounts.Length];
    private int[]? _firstApp;
    private int _account = -1;
    private string? _token;

    public async Task RunAsync()
    {
        while (run.TryTake() && await run.NextSlotAsync() is { } due)
        {
            recorder.Due = due;
            if (_token is null)
            {
                await SignInAsync();
                continue;
            }

            if (!options.Mix)
            {
                await CompleteAsync();
                continue;
            }

            // The mix: sign-in 5%, catalog 45%, completion 30%, transfer 20%.
            var pick = _random.Next(100);
            await (pick switch
            {
                < 5 => SignInAsync(),
                < 50 => ReadCatalogAsync(),
                < 80 => CompleteAsync(),
                _ => TransferAsync(),
            });
        }
    }

    /// <summary>
    /// Before a paced run's schedule starts: signs the first account in, unrecorded, and starts it part-way through the
    /// catalog, so that the users' later sign-ins (each a deliberately slow password hash) do not all fall due at the
    /// same moment of the schedule, as they would if every account began with its catalog whole (with --start same
    /// they all begin at the first app, as asked).
    /// </summary>
    public async Task SignInBeforeScheduleAsync()
    {
        await NextSessionAsync();
        if (!options.SameStart)
        {
            _completed[_account] = _random.Next(catalog.AppIds.Count);
        }
    }

    private string Login(int number) => options.AccountPrefix + number.ToString(CultureInfo.InvariantCulture) + "@example.com";

    /// <summary>A new session of the next account of this user's share, recorded.</summary>
    private async Task SignInAsync() => recorder.Add("sign-in", await NextSessionAsync());

    /// <summary>Signs the next account of this user's share in; the sign-in's answer.</summary>
    private async Task<Answer> NextSessionAsync()
    {
        _account = (_account + 1) % accounts.Length;
        var (token, answer) = await api.LoginAsync(Login(accounts[_account]), options.Password);
        _token = token;
        return answer;
    }

    private async Task ReadCatalogAsync()
    {
        var page = _random.Next(1, 4);
        var path = _random.Next(3) switch
        {
            0 => $"/api/v1/apps?page={page}&size=20",
            1 => $"/api/v1/apps?q={_random.Next(1, 10)}&size=20",
            _ when catalog.Categories.Count > 0 => $"/api/v1/apps?category={catalog.Categories[_random.Next(catalog.Categories.Count)]}&size=20",
            _ => "/api/v1/apps?sort=-points&size=20",
        };
        recorder.Add("catalog", await api.SendAsync(HttpMethod.Get, path, _token));
    }

    private async Task CompleteAsync()
    {
        // Every app done: the next account signs in, then goes on; and the one after it, should that one be done too
        // (in the mix, sign-ins take the accounts in turn, so they fill up together). With every account done, the user
        // has nothing left to complete.
        for (var signIns = 0; _completed[_account] >= catalog.AppIds.Count; signIns++)
        {
            if (signIns == accounts.Length)
            {
                return;
            }

            await SignInAsync();
            if (_token is null)
            {
                return;
            }
        }

        // Each account starts at an app of its own, drawn at random, so that users do not all write the same app's
        // rows (its counters) at once: spreading them by account number lines them up whenever the numbers share a
        // factor with the count of apps. With --start same every account starts at the first app, so that they do.
        _firstApp ??= accounts.Select(_ => options.SameStart ? 0 : _random.Next(catalog.AppIds.Count)).ToArray();
        var app = catalog.AppIds[(_completed[_account]++ + _firstApp[_account]) % catalog.AppIds.Count];
        var screenshot = new ByteArrayContent(Png.Random(_random));
        screenshot.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent { { screenshot, "screenshot", "proof.png" } };
        recorder.Add("complete", await api.SendAsync(HttpMethod.Post, $"/api/v1/apps/{app}/completions", _token, form));
    }

    private async Task TransferAsync()
    {
        var me = accounts[_account];
        var to = options.FirstAccount + _random.Next(options.Accounts);
        if (to == me)
        {
            to = options.FirstAccount + (to - options.FirstAccount + 1) % options.Accounts;
        }

        using var body = Api.JsonBody(new { to = Login(to), amount = _random.Next(1, 4) });
        // 409 insufficient_points: the sender's balance does not cover the amount, a business answer.
        recorder.Add("transfer", await api.SendAsync(HttpMethod.Post, "/api/v1/points/transfers", _token, body, Guid.NewGuid().ToString("N")), 409);
    }
}

/// <summary>
/// An admin working through the review queue: reads the pending completions (newest first, as the queue lists them)
/// and approves nine in ten, rejecting the tenth with a reason. With several admins, each takes the completions
/// whose id falls to it, so that they do not race for the same ones; when the queue is empty it waits 50 ms.
/// </summary>
internal sealed class Reviewer(Api api, MixOptions options, Run run, Recorder recorder, int seed)
{
    private readonly Random _random = new(seed);
    private readonly int _share = seed - 1000;

    public async Task RunAsync()
    {
        string? token = null;
        while (token is null && run.TryTake())
        {
            (token, var answer) = await api.LoginAsync(options.AdminLogin, options.AdminPassword);
            recorder.Add("sign-in", answer);
        }

        while (token is not null && run.TryTake())
        {
            var list = await api.SendAsync(HttpMethod.Get, "/api/v1/admin/completions?status=pending&size=50", token);
            recorder.Add("review-list", list);
            var ids = list.Succeeded
                ? list.Json().GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).Where(id => id % options.Admins == _share).ToList()
                : [];
            if (ids.Count == 0)
            {
                await Task.Delay(50);
                continue;
            }

            foreach (var id in ids)
            {
                if (!run.TryTake())
                {
                    return;
                }

                // 409: reviewed already (never by another admin here; kept as a business answer all the same).
                if (_random.Next(10) == 0)
                {
                    using var reason = Api.JsonBody(new { reason = "The screenshot does not show the app." });
                    recorder.Add("reject", await api.SendAsync(HttpMethod.Post, $"/api/v1/admin/completions/{id}/reject", token, reason), 409);
                }
                else
                {
                    recorder.Add("approve", await api.SendAsync(HttpMethod.Post, $"/api/v1/admin/completions/{id}/approve", token), 409);
                }
            }
        }
    }
}
