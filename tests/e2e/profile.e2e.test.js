// End-to-end: the profile (issue 8) in Debian's chromium against a real Kairos server (harness.js): the display name
// changed and shown in the user menu, the password changed (a wrong current one refused next to its field, a
// confirmation that differs caught in the page), another signed-in browser signed out by it, and signing in again:
// the old password refused, the new one accepted. Every wait is on a condition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nav, setUpOwner, shoot, useServer, watchProblems } from './harness.js';

const ctx = useServer();
const email = 'owner@example.com';
const oldPassword = 'correct horse battery';
const newPassword = 'a new passphrase for 2026';

async function signIn(page, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('profile: rename, change the password, the other session ends, the old password is refused', { timeout: 180_000 }, async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  // The walk provokes a 400 (wrong current password) and 401s (a wrong sign-in, /auth/me once signed out) on purpose.
  const problems = watchProblems(page);
  await setUpOwner(page, ctx, 'Profile E2E', { email, password: oldPassword });

  // A second browser (its own cookies) signed in as the same user.
  const other = await (await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  other.setDefaultTimeout(15_000);
  await other.goto(ctx.base + '/login');
  await signIn(other, oldPassword);
  await other.getByRole('heading', { name: 'Dashboard' }).waitFor();

  // The profile from the user menu; the display name changed, shown on the page and in the menu.
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Profile' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.getByLabel('Display name').fill('Olga Ortega');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('[data-toast="success"]').filter({ hasText: 'Name changed' }).waitFor();
  await page.getByTestId('profile-name').filter({ hasText: 'Olga Ortega' }).waitFor();
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menu').getByText('Olga Ortega', { exact: true }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('menu').waitFor({ state: 'detached' });
  const members = await ctx.api('GET', '/api/v1/members');
  assert.deepEqual(members.items.map((m) => m.name), ['Olga Ortega']);

  // A wrong current password: the server's message next to the field; nothing changed.
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('Confirm new password').fill(newPassword);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.locator('[data-field-error="current-password"]').filter({ hasText: 'is not your current password' }).waitFor();
  // A confirmation that differs: caught in the page.
  await form.getByLabel('Current password').fill(oldPassword);
  await form.getByLabel('Confirm new password').fill(newPassword + '!');
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.locator('[data-field-error="confirm-password"]').filter({ hasText: 'does not match the new password' }).waitFor();
  await shoot(page, 'profile-errors');
  // The change: the other browser's session is signed out, this one stays.
  await form.getByLabel('Confirm new password').fill(newPassword);
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.locator('[data-toast="success"]').filter({ hasText: '1 other session was signed out.' }).waitFor();
  assert.equal(await form.getByLabel('Current password').inputValue(), '');
  await shoot(page, 'profile');
  await nav(page, 'Jobs');
  await page.getByText('No jobs match these filters.').waitFor();
  await other.reload();
  await other.getByRole('heading', { name: 'Sign in' }).waitFor();

  // Sign out; the old password is refused, the new one signs in.
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await signIn(page, oldPassword);
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
  await signIn(page, newPassword);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menu').getByText('Olga Ortega', { exact: true }).waitFor();

  const audit = await ctx.api('GET', '/api/v1/audit?action=user.*');
  assert.deepEqual(audit.items.map((e) => `${e.action} ${e.status}`), ['user.password_change 200', 'user.password_change 400', 'user.rename 200']);
  assert.deepEqual(problems, []);
});
