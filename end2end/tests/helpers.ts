// Shared steps for the browser tests: known users, waiting for hydration, signing in.
import { Browser, Page, TestInfo, expect } from "@playwright/test";

export type Account = { username: string; password: string };

// Created by run.sh with `nightwatch user create` before the server starts.
export const ADMIN: Account = { username: "e2e-admin", password: "e2e admin password" };
export const VIEWER: Account = { username: "e2e-viewer", password: "e2e viewer password" };
export const COMMANDER: Account = { username: "e2e-commander", password: "e2e commander password" };

export function isHydrated(testInfo: TestInfo): boolean {
  return testInfo.project.name === "hydrated";
}

/** In the hydrated project, waits until the WASM client has taken over the page. */
export async function ready(page: Page, testInfo: TestInfo): Promise<void> {
  if (isHydrated(testInfo)) {
    await expect(page.locator("html[data-hydrated=true]")).toHaveCount(1);
  }
}

/** Fills and sends the sign-in form on the current page. */
export async function submitSignIn(page: Page, testInfo: TestInfo, account: Account): Promise<void> {
  await ready(page, testInfo);
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in from the sign-in page and waits for the app shell (on a phone, its menu). */
export async function signIn(page: Page, testInfo: TestInfo, account: Account): Promise<void> {
  await page.goto("/login");
  await submitSignIn(page, testInfo, account);
  await expect(page).not.toHaveURL(/\/login(\?|$)/);
  await expect(page.locator("header.topbar")).toBeVisible();
}

/** A fresh, signed-out page with the same JavaScript setting as the running project. */
export async function freshPage(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const context = await browser.newContext({
    javaScriptEnabled: isHydrated(testInfo),
    baseURL: testInfo.project.use.baseURL,
  });
  return context.newPage();
}

/** Declares an incident from the list page; returns its URL. */
export async function declare(page: Page, testInfo: TestInfo, title: string): Promise<string> {
  await page.goto("/incidents");
  await ready(page, testInfo);
  await page.getByRole("link", { name: "Declare incident" }).click();
  await expect(page.getByRole("heading", { name: "Declare an incident" })).toBeVisible();
  await ready(page, testInfo);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("sev1");
  await page.getByLabel("Affected services").fill("checkout, payments");
  await page.getByLabel("Tags").fill("e2e");
  await page.getByRole("button", { name: "Declare incident" }).click();
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  await expect(page.getByRole("heading", { name: title })).toBeVisible();
  return page.url();
}

/** Moves the incident on the current page with a note, and waits for the new status. */
export async function move(page: Page, testInfo: TestInfo, note: string, button: string, status: string) {
  await ready(page, testInfo);
  await page.getByLabel("Note (required: say why)").fill(note);
  await page.getByRole("button", { name: button, exact: true }).click();
  await expect(page.getByLabel("Severity and status")).toContainText(status);
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText(note);
}

/** Creates a plan through the JSON server function (the composer is tested on its own); returns its number. */
export async function createPlan(page: Page, plan: object): Promise<number> {
  const res = await page.request.post("/api/create_plan", {
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    data: { plan },
  });
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}
