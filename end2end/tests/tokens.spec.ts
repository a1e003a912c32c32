// API tokens: an admin creates one, sees its secret once, the token opens the REST API, and
// revoking it closes the door — with JavaScript on and off.
import { expect, test } from "@playwright/test";
import { ADMIN, VIEWER, ready, signIn } from "./helpers";

test("an admin creates a token, sees it once, and it works until revoked", async ({ page, request }, testInfo) => {
  const name = `grafana-${testInfo.project.name}`;
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/tokens");
  await ready(page, testInfo);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Role", { exact: true }).selectOption("responder");
  await page.getByLabel("Expires after (days)").fill("30");
  await page.getByRole("button", { name: "Create token" }).click();

  const secret = page.getByLabel(`Token for ${name}`);
  await expect(secret).toBeVisible();
  const token = await secret.inputValue();
  expect(token).toMatch(/^nw_[0-9A-Za-z]{38}$/);
  await expect(page.getByText("Copy it now: it is not shown again.")).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText("Responder");
  await expect(row).toContainText(token.slice(0, 9));
  await expect(row).not.toContainText(token);

  const api = await request.get("/api/v1/incidents", { headers: { Authorization: `Bearer ${token}` } });
  expect(api.status()).toBe(200);

  // Shown once: a reload shows the list, never the secret again.
  await page.reload();
  await ready(page, testInfo);
  await expect(page.getByLabel(`Token for ${name}`)).toHaveCount(0);

  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "Revoked" })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Revoked");
  const after = await request.get("/api/v1/incidents", { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
});

test("a bad token form is answered beside its fields", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/tokens");
  await ready(page, testInfo);
  await page.getByLabel("Name", { exact: true }).fill("has spaces");
  await page.getByLabel("Expires after (days)").fill("0");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByText("Use letters, digits, '-', '_' and '.' only.")).toBeVisible();
  await expect(page.getByText(/A whole number of days from 1 to 3650/)).toBeVisible();
  await expect(page.getByRole("row", { name: /has spaces/ })).toHaveCount(0);
});

test("a viewer is told the page is for admins", async ({ page }, testInfo) => {
  await signIn(page, testInfo, VIEWER);
  await page.goto("/admin/tokens");
  await expect(page.getByText("Only admins can manage API tokens.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create token" })).toHaveCount(0);
});

test("the API reference is one readable page", async ({ page }) => {
  await page.goto("/api/docs");
  await expect(page.getByRole("heading", { name: "Nightwatch REST API" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "POST /api/v1/incidents", exact: true })).toBeVisible();
});
