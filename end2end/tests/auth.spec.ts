// Signing in and out, the app shell, and what a viewer may not see.
import { expect, test } from "@playwright/test";
import { ADMIN, VIEWER, isHydrated, ready, signIn, submitSignIn } from "./helpers";

test("a signed-out visitor is sent to sign in and then on to the page they asked for", async ({ page }, testInfo) => {
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await submitSignIn(page, testInfo, ADMIN);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
});

test("the shell shows the navigation, the signed-in user and their role", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.username}` })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const section of ["Incidents", "Plans", "Runs", "Action items", "Metrics", "Admin"]) {
    await expect(nav.getByRole("link", { name: section, exact: true })).toBeVisible();
  }
  await expect(page.getByRole("link", { name: new RegExp(ADMIN.username) })).toContainText("Admin");
});

test("a wrong password is refused with a clear message and no session", async ({ page, context }, testInfo) => {
  await page.goto("/login");
  await submitSignIn(page, testInfo, { username: VIEWER.username, password: "not the password" });
  await expect(page.getByRole("alert").filter({ hasText: "The username or password is not right." })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  if (isHydrated(testInfo)) {
    // The client handled it in place: no round trip through an error URL.
    expect(page.url()).not.toContain("__err");
  }
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === "nightwatch_session")).toBeUndefined();
});

test("signing out ends the session", async ({ page }, testInfo) => {
  await signIn(page, testInfo, VIEWER);
  await ready(page, testInfo);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
});

test("a viewer sees no Admin link and the admin page says why", async ({ page }, testInfo) => {
  await signIn(page, testInfo, VIEWER);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Incidents" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
  const res = await page.goto("/admin/users");
  expect(res?.status()).toBe(403);
  await expect(page.getByText("Only admins can manage users.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create user" })).toHaveCount(0);
});
