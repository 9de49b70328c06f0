using System.Net;
using System.Text.Json;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>The signed-in user's profile: <c>PATCH /me</c> (display name) and <c>POST /me/password</c>.</summary>
public sealed class ProfileTests() : IdentityTest(fakeTime: true)
{
    private const string NewPassword = "a brand new passphrase";

    private IKairosStore Store => Factory.Services.GetRequiredService<IKairosStore>();

    private static Task<HttpResponseMessage> ChangePasswordAsync(SessionUser user, string? current, string? next) =>
        user.Client.PostJsonAsync("/api/v1/me/password", new { current_password = current, new_password = next });

    private async Task<JsonElement[]> AuditAsync(string action) =>
        [.. (await Admin.GetAsync($"/api/v1/audit?action={action}").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()];

    /// <summary>Whether <paramref name="password"/> signs <paramref name="email"/> in (401 otherwise).</summary>
    private async Task<bool> SignsInAsync(string email, string password)
    {
        using var response = await Bare().PostJsonAsync("/api/v1/auth/login", new { email, password });
        if (response.StatusCode == HttpStatusCode.Unauthorized) return false;
        await response.Expect(HttpStatusCode.OK);
        return true;
    }

    [Fact]
    public async Task A_user_renames_themself_and_every_session_and_organization_sees_the_new_name()
    {
        var owner = await SetupAsync();
        var second = await LoginAsync(OwnerEmail);

        var me = await owner.Client.PatchJsonAsync("/api/v1/me", new { name = "  Olga Ortega " }).Expect(HttpStatusCode.OK);
        Assert.Equal("Olga Ortega", me.GetProperty("user").Str("name"));
        Assert.Equal(OwnerEmail, me.GetProperty("user").Str("email"));
        Assert.Equal(owner.CsrfToken, me.Str("csrf_token"));
        Assert.Equal("owner", me.GetProperty("current_organization").Str("role"));

        Assert.Equal("Olga Ortega", (await second.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK)).GetProperty("user").Str("name"));
        var members = await Admin.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK);
        Assert.Equal("Olga Ortega", Assert.Single(members.GetProperty("items").EnumerateArray()).Str("name"));

        var entry = Assert.Single(await AuditAsync("user.rename"));
        Assert.Equal(owner.UserId, entry.Str("actor_id"));
        Assert.Equal("user", entry.Str("target_type"));
        Assert.Equal(owner.UserId, entry.Str("target_id"));
        Assert.Equal("Olga Ortega", entry.GetProperty("details").Str("name"));
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_bad_name_is_refused_naming_the_field_and_changes_nothing()
    {
        var owner = await SetupAsync();
        await owner.Client.PatchJsonAsync("/api/v1/me", new { }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await owner.Client.PatchJsonAsync("/api/v1/me", new { name = "" }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await owner.Client.PatchJsonAsync("/api/v1/me", new { name = "   " }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await owner.Client.PatchJsonAsync("/api/v1/me", new { name = new string('n', 201) }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await owner.Client.PatchJsonAsync("/api/v1/me", new { name = "Olga\u0007" }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await owner.Client.PatchAsync("/api/v1/me", new StringContent("{\"name\":", System.Text.Encoding.UTF8, "application/json"))
            .ExpectProblem(HttpStatusCode.BadRequest);

        Assert.Equal("Olga", (await owner.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK)).GetProperty("user").Str("name"));
        Assert.All(await AuditAsync("user.rename"), e => Assert.Equal(400, e.GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task A_password_change_ends_the_users_other_sessions_and_keeps_the_current_one()
    {
        var owner = await SetupAsync();
        var second = await LoginAsync(OwnerEmail);
        var third = await LoginAsync(OwnerEmail);
        var member = await MemberAsync(owner, "mia@example.com", "member");

        var changed = await ChangePasswordAsync(owner, Password, NewPassword).Expect(HttpStatusCode.OK);
        Assert.Equal(2, changed.GetProperty("sessions_ended").GetInt32());

        await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        await owner.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);
        await second.Client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
        await third.Client.GetAsync("/api/v1/auth/me").ExpectProblem(HttpStatusCode.Unauthorized);
        await member.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);

        Assert.False(await SignsInAsync(OwnerEmail, Password));
        Assert.True(await SignsInAsync(OwnerEmail, NewPassword));
        Assert.True(await SignsInAsync("mia@example.com", Password));

        var entry = Assert.Single(await AuditAsync("user.password_change"));
        Assert.Equal(owner.UserId, entry.Str("actor_id"));
        Assert.Equal(owner.UserId, entry.Str("target_id"));
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal(2, entry.GetProperty("details").GetProperty("sessions_ended").GetInt32());
        Assert.DoesNotContain(Password, entry.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(NewPassword, entry.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_password_changes_are_refused_naming_the_field_and_change_nothing()
    {
        var owner = await SetupAsync();
        var second = await LoginAsync(OwnerEmail);

        await ChangePasswordAsync(owner, null, NewPassword).ExpectProblem(HttpStatusCode.BadRequest, "current_password");
        await ChangePasswordAsync(owner, Password, null).ExpectProblem(HttpStatusCode.BadRequest, "new_password");
        await ChangePasswordAsync(owner, "", "").ExpectProblem(HttpStatusCode.BadRequest, "current_password", "new_password");
        var tooShort = await ChangePasswordAsync(owner, Password, "short").ExpectProblem(HttpStatusCode.BadRequest, "new_password");
        Assert.Contains($"at least {Passwords.MinLength} characters", tooShort.Str("detail"), StringComparison.Ordinal);
        await ChangePasswordAsync(owner, Password, new string('p', Passwords.MaxLength + 1)).ExpectProblem(HttpStatusCode.BadRequest, "new_password");
        await ChangePasswordAsync(owner, Password, Password).ExpectProblem(HttpStatusCode.BadRequest, "new_password");
        var wrong = await ChangePasswordAsync(owner, "not my password", NewPassword).ExpectProblem(HttpStatusCode.BadRequest, "current_password");
        Assert.Equal("current_password: is not your current password", wrong.Str("detail"));

        // The old password still signs in, the new one does not, and no session ended.
        Assert.True(await SignsInAsync(OwnerEmail, Password));
        Assert.False(await SignsInAsync(OwnerEmail, NewPassword));
        await second.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        Assert.All(await AuditAsync("user.password_change"), e => Assert.Equal(400, e.GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task Wrong_current_passwords_count_toward_the_accounts_sign_in_lock_out()
    {
        var owner = await SetupAsync();
        var limits = new AuthLimits();
        for (var i = 0; i < limits.FailuresPerAccount; i++)
        {
            await ChangePasswordAsync(owner, $"guess number {i}", NewPassword).ExpectProblem(HttpStatusCode.BadRequest, "current_password");
        }
        using (var locked = await ChangePasswordAsync(owner, Password, NewPassword))
        {
            await locked.ExpectProblem(HttpStatusCode.TooManyRequests);
            Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        await Bare().PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = Password }).ExpectProblem(HttpStatusCode.TooManyRequests);

        Time.Advance(limits.AccountWindow);
        await ChangePasswordAsync(owner, Password, NewPassword).Expect(HttpStatusCode.OK);
        Assert.True(await SignsInAsync(OwnerEmail, NewPassword));
    }

    [Fact]
    public async Task Api_keys_have_no_profile_and_cookie_changes_need_the_csrf_header()
    {
        var owner = await SetupAsync();
        var keyName = await Admin.PatchJsonAsync("/api/v1/me", new { name = "Key" }).ExpectProblem(HttpStatusCode.Forbidden);
        Assert.Contains("API key", keyName.Str("detail"), StringComparison.Ordinal);
        await Admin.PostJsonAsync("/api/v1/me/password", new { current_password = Password, new_password = NewPassword }).ExpectProblem(HttpStatusCode.Forbidden);
        await Client(await CreateKeyAsync("read")).PatchJsonAsync("/api/v1/me", new { name = "Key" }).ExpectProblem(HttpStatusCode.Forbidden);

        var noCsrf = WithCookie(owner.Cookie);
        await noCsrf.PatchJsonAsync("/api/v1/me", new { name = "Forged" }).ExpectProblem(HttpStatusCode.Forbidden);
        await noCsrf.PostJsonAsync("/api/v1/me/password", new { current_password = Password, new_password = NewPassword }).ExpectProblem(HttpStatusCode.Forbidden);
        await Bare().PatchJsonAsync("/api/v1/me", new { name = "Anon" }).ExpectProblem(HttpStatusCode.Unauthorized);
        await Bare().PostJsonAsync("/api/v1/me/password", new { current_password = Password, new_password = NewPassword }).ExpectProblem(HttpStatusCode.Unauthorized);

        Assert.Equal("Olga", (await owner.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK)).GetProperty("user").Str("name"));
        Assert.True(await SignsInAsync(OwnerEmail, Password));
        var refused = await AuditAsync("user.*");
        Assert.NotEmpty(refused);
        Assert.All(refused, e => Assert.Equal(403, e.GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task Of_concurrent_password_changes_exactly_one_wins_and_the_others_change_nothing()
    {
        var owner = await SetupAsync();
        const int clients = 8;
        var responses = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => ChangePasswordAsync(owner, Password, $"{NewPassword} {i}"))));
        try
        {
            var winners = Enumerable.Range(0, clients).Where(i => responses[i].StatusCode == HttpStatusCode.OK).ToArray();
            var winner = Assert.Single(winners);
            foreach (var loser in Enumerable.Range(0, clients).Where(i => i != winner))
            {
                // Refused by the store (the hash it checked is no longer the stored one: 409); or, when it read the
                // user after the winner's commit, by the check of the current password (400), which counts toward the
                // account's lock-out (429 once enough of them failed).
                var response = responses[loser];
                if (response.StatusCode == HttpStatusCode.BadRequest) await response.ExpectProblem(HttpStatusCode.BadRequest, "current_password");
                else Assert.Contains((await response.ExpectProblem(response.StatusCode)).GetProperty("status").GetInt32(), new[] { 409, 429 });
            }
            // Each request reads the user as it authenticates (a quick read) and then checks the password (PBKDF2, far
            // slower): some read the old hash before the winner stored the new one, and the store refuses them.
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Conflict);
            // Only the winner's password is stored (checked on the store's row: signing in with each would count failures).
            var user = await Store.Identity.FindUserByEmailAsync(new FindUserParams(OwnerEmail), CancellationToken.None);
            var passwords = Factory.Services.GetRequiredService<Passwords>();
            Assert.Equal([winner], Enumerable.Range(0, clients).Where(i => passwords.Verify(user, $"{NewPassword} {i}")));
            Assert.False(passwords.Verify(user, Password));
            await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }
}
