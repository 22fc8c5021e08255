using System.Globalization;

namespace Aap.LoadMix;

/// <summary>What a run does; every value has a default, every bound is checked before anything is sent.</summary>
internal sealed record MixOptions(
    string Url,
    string Mode,
    int Users,
    int Admins,
    TimeSpan Duration,
    long MaxRequests,
    int Accounts,
    int FirstAccount,
    string AccountPrefix,
    string Password,
    string AdminLogin,
    string AdminPassword,
    bool SameStart,
    int Rate)
{
    public const string Usage = """
        usage: Aap.LoadMix --url http://127.0.0.1:PORT --admin-login NAME --admin-password P --password P [options]
          --mode mix|completions   mix: sign-ins, catalog reads, completions, transfers, reviews (default);
                                   completions: each user only completes apps
          --users N                virtual users in a closed loop (32), or sharing the slots of --rate
          --rate N                 the users' requests in all per second, sent on a schedule (one slot every 1/N s,
                                   taken by whichever user is free) and timed from when each was due, so that
                                   answers slower than the schedule show as waits; 0: a closed loop (default)
          --admins N               virtual admins reviewing pending completions (1 in mix, 0 in completions)
          --duration S             seconds of load (60); requests in flight then are waited for (30 s at most)
          --max-requests N         stop sending after this many requests (2000000)
          --accounts N             seeded accounts <prefix>1..N, dealt out to the users in turn (users x 20)
          --first-account N        the first account number the users take (1)
          --prefix P               account names <P><n>, e-mail <P><n>@example.com (mix-)
          --start random|same      where each account starts in the catalog: an app drawn at random (default), or
                                   the first app for every account, so that the users complete the same apps at
                                   the same time (a newly published app that everyone completes at once)
        """;

    public bool Mix => Mode == "mix";

    public static MixOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            values[args[i][2..]] = args[i + 1];
        }

        if (args.Length % 2 != 0)
        {
            return null;
        }

        string Text(string key, string fallback) => values.TryGetValue(key, out var value) ? value : fallback;
        int Number(string key, int fallback) => values.TryGetValue(key, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

        var mode = Text("mode", "mix");
        var start = Text("start", "random");
        var users = Number("users", 32);
        var options = new MixOptions(
            Text("url", ""),
            mode,
            users,
            Number("admins", mode == "mix" ? 1 : 0),
            TimeSpan.FromSeconds(Number("duration", 60)),
            values.TryGetValue("max-requests", out var max) ? long.Parse(max, CultureInfo.InvariantCulture) : 2_000_000,
            Number("accounts", users * 20),
            Number("first-account", 1),
            Text("prefix", "mix-"),
            Text("password", ""),
            Text("admin-login", ""),
            Text("admin-password", ""),
            start == "same",
            Number("rate", 0));
        var valid = options.Url.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)
            && mode is "mix" or "completions"
            && start is "random" or "same"
            && users is >= 1 and <= 1000
            && options.Rate is >= 0 and <= 100_000
            && options.Admins is >= 0 and <= 16
            && options.Duration > TimeSpan.Zero && options.Duration <= TimeSpan.FromHours(1)
            && options.MaxRequests > 0
            && options.Accounts >= users
            && options.Password.Length > 0
            && (options.Admins == 0 || (options.AdminLogin.Length > 0 && options.AdminPassword.Length > 0));
        return valid ? options : null;
    }
}
