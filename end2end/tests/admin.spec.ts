// User administration: create, validate, change role, disable — and what that does to sign-in.
import { expect, test } from "@playwright/test";
import { ADMIN, freshPage, ready, signIn, submitSignIn } from "./helpers";

test("an admin creates a user who can then sign in with that role", async ({ page, browser }, testInfo) => {
  const name = `ops-${testInfo.project.name}`;
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/users");
  await ready(page, testInfo);
  await page.getByLabel("Username", { exact: true }).fill(name);
  await page.getByLabel("Role", { exact: true }).selectOption("commander");
  await page.getByLabel("Initial password").fill("ops initial password");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toBeVisible();
  await expect(page.getByLabel(`Role for ${name}`)).toHaveValue("commander");
  // Said once, with or without JavaScript; and gone after the next action.
  const created = page.getByRole("status").filter({ hasText: /^(Created .* \(Commander\)|User created)\.$/ });
  await expect(created).toHaveCount(1);
  await ready(page, testInfo);
  await page.getByLabel(`Role for ${name}`).selectOption("responder");
  await page.getByRole("button", { name: `Save role of ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "Role changed." })).toHaveCount(1);
  await expect(created).toHaveCount(0);

  const other = await freshPage(browser, testInfo);
  await signIn(other, testInfo, { username: name, password: "ops initial password" });
  await expect(other.getByRole("link", { name: new RegExp(name) })).toContainText("Responder");
  await other.context().close();
});

test("bad input is answered next to the fields, and nothing is created", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/users");
  await ready(page, testInfo);
  await page.getByLabel("Username", { exact: true }).fill("x");
  await page.getByLabel("Initial password").fill("short");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("A username needs at least 3 characters.")).toBeVisible();
  await expect(page.getByText("A password needs at least 10 characters.")).toBeVisible();
  await expect(page.getByRole("row", { name: /^x\b/ })).toHaveCount(0);
});

test("a demoted and disabled user can no longer sign in", async ({ page, browser }, testInfo) => {
  const name = `leaver-${testInfo.project.name}`;
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/users");
  await ready(page, testInfo);
  await page.getByLabel("Username", { exact: true }).fill(name);
  await page.getByLabel("Initial password").fill("leaver password");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByLabel(`Role for ${name}`)).toBeVisible();

  await page.getByLabel(`Role for ${name}`).selectOption("viewer");
  await page.getByRole("button", { name: `Save role of ${name}` }).click();
  await expect(page.getByLabel(`Role for ${name}`)).toHaveValue("viewer");

  await page.getByRole("button", { name: `Disable ${name}` }).click();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByText("Disabled")).toBeVisible();
  await expect(page.getByRole("button", { name: `Enable ${name}` })).toBeVisible();

  const other = await freshPage(browser, testInfo);
  await other.goto("/login");
  await submitSignIn(other, testInfo, { username: name, password: "leaver password" });
  await expect(other.getByRole("alert").filter({ hasText: "The username or password is not right." })).toBeVisible();
  await other.context().close();
});

test("an admin taking away their own admin rights is asked first, and cannot disable themself", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/users");
  await ready(page, testInfo);
  const me = ADMIN.username;
  await page.getByLabel(`Role for ${me}`).selectOption("commander");
  await page.getByRole("button", { name: `Save role of ${me}` }).click();
  await expect(page.getByText("This is your own account: you would lose your admin rights.")).toBeVisible();
  await expect(page.getByRole("button", { name: `Disable ${me}` })).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByLabel(`Role for ${me}`)).toHaveValue("admin");
});
