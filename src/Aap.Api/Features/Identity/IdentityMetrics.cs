using System.Diagnostics.Metrics;

namespace Aap.Api.Features.Identity;

/// <summary>The meter <c>aap.identity</c>: sign-ups, sign-ins by outcome, lock-outs, refreshes and reuse detections.</summary>
internal sealed class IdentityMetrics
{
    public const string MeterName = "aap.identity";

    private readonly Counter<long> _signUps;
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _lockouts;
    private readonly Counter<long> _refreshes;
    private readonly Counter<long> _reuses;

    public IdentityMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _signUps = meter.CreateCounter<long>("aap.identity.sign_ups", "{account}", "Accounts created, by role.");
        _signIns = meter.CreateCounter<long>("aap.identity.sign_ins", "{attempt}",
            "Password sign-ins by outcome: succeeded, wrong_password, unknown_user, deactivated, invalid_input, locked_out.");
        _lockouts = meter.CreateCounter<long>("aap.identity.lockouts", "{attempt}",
            "Sign-ins refused unchecked because a password-guessing limit was reached, by scope (address, account).");
        _refreshes = meter.CreateCounter<long>("aap.identity.refreshes", "{refresh}", "Refresh-token rotations by outcome: rotated, invalid, reused.");
        _reuses = meter.CreateCounter<long>("aap.identity.refresh_reuse_detections", "{detection}",
            "Consumed refresh tokens presented again (the session they belong to is ended).");
    }

    public void SignedUp(string role) => _signUps.Add(1, new KeyValuePair<string, object?>("role", role.ToLowerInvariant()));

    public void SignIn(string outcome) => _signIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void LockedOut(string scope)
    {
        _lockouts.Add(1, new KeyValuePair<string, object?>("scope", scope));
        SignIn("locked_out");
    }

    public void Refreshed(string outcome)
    {
        _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "reused")
        {
            _reuses.Add(1);
        }
    }
}
