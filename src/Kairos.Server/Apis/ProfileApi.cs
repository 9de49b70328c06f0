using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record UpdateProfileRequest(string? Name);
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <param name="SessionsEnded">How many other sessions of the user were signed out (the one that asked stays).</param>
public sealed record PasswordChangedDto(int SessionsEnded);

/// <summary>
/// The signed-in user's own profile: display name and password. Console sessions only: an API key has no user, so
/// both answer 403 to a key. Recorded in the audit log of each of the user's organizations.
/// </summary>
public static class ProfileApi
{
    public static RouteGroupBuilder MapProfileApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/me").WithTags("Profile");
        g.MapPatch("/", UpdateProfile).WithName("UpdateProfile").RequireAuthorization().Audited("user.rename");
        // A password check is a chance to guess: the sign-in limits apply (per address, and the account's lock-out).
        g.MapPost("/password", ChangePassword).WithName("ChangePassword").RequireAuthorization().RequireRateLimiting(AuthSetup.SignInLimit)
            .Audited("user.password_change");
        return api;
    }

    /// <summary>Sets the display name; answers who the caller is now (as <c>GET /auth/me</c>).</summary>
    public static async Task<Results<Ok<MeDto>, ValidationProblem, ProblemHttpResult>> UpdateProfile(
        UpdateProfileRequest request, HttpContext http, IKairosStore store)
    {
        if (http.Items[typeof(SessionLookup)] is not SessionLookup s) return NoUser();
        await AuthApi.NoteUserAsync(http, store, s.User, null);
        var v = new Validation();
        v.RequiredName("name", request.Name);
        if (!v.Ok) return Problems.Invalid(v);
        var name = request.Name!.Trim();
        http.Audit().Detail("name", name);
        var renamed = await store.Identity.RenameUserAsync(new RenameUserParams(s.User.Id, name), http.RequestAborted);
        if (renamed is null) return Problems.NotFound("Your account no longer exists.");
        return TypedResults.Ok(await AuthApi.UserMeAsync(store, renamed, s.Session, http.RequestAborted));
    }

    /// <summary>
    /// Changes the password after checking the current one; the user's other sessions end, the one that asked stays.
    /// A wrong current password counts toward the account's sign-in lock-out. A change made meanwhile by another
    /// request (the stored hash is no longer the one checked) answers 409 and changes nothing.
    /// </summary>
    public static async Task<Results<Ok<PasswordChangedDto>, ValidationProblem, ProblemHttpResult, TooMany>> ChangePassword(
        ChangePasswordRequest request, HttpContext http, IKairosStore store, Passwords passwords, LoginThrottle throttle)
    {
        if (http.Items[typeof(SessionLookup)] is not SessionLookup s) return NoUser();
        var user = s.User;
        await AuthApi.NoteUserAsync(http, store, user, null);
        var v = new Validation();
        v.Required("current_password", request.CurrentPassword);
        Passwords.Validate(v, "new_password", request.NewPassword);
        if (v.Ok && request.NewPassword == request.CurrentPassword) v.Add("new_password", "must differ from the current password");
        if (!v.Ok) return Problems.Invalid(v);

        if (throttle.LockedFor(user.Email) is { } locked) return new TooMany(locked, TooMany.AccountLocked);
        if (!passwords.Verify(user, request.CurrentPassword!))
        {
            throttle.Failed(user.Email);
            return Problems.Invalid("current_password", "is not your current password");
        }
        throttle.Succeeded(user.Email);

        var change = await store.Identity.ChangePasswordAsync(
            new ChangePasswordParams(user.Id, user.PasswordHash, passwords.Hash(request.NewPassword!), s.Session.Id), http.RequestAborted);
        if (!change.Changed) return Problems.Conflict("Your password was changed meanwhile by another request: nothing changed here.");
        http.Audit().Detail("sessions_ended", change.SessionsEnded);
        return TypedResults.Ok(new PasswordChangedDto(change.SessionsEnded));
    }

    private static ProblemHttpResult NoUser() =>
        AuthApi.SessionsOnly("An API key has no user profile or password: sign in to the console (a session) to change them.");
}
