// Hostile text stays text, and the page policy lets only Nightwatch's own scripts run: the
// hydration script carries the response's nonce and the WASM client still takes over.
import { expect, test } from "@playwright/test";
import { ADMIN, declare, isHydrated, ready, signIn } from "./helpers";

const HOSTILE = `E2E </title><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

test("a hostile incident title runs nothing and shows as text", async ({ page }, testInfo) => {
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const violations: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") violations.push(m.text());
  });
  await signIn(page, testInfo, ADMIN);
  const url = await declare(page, testInfo, HOSTILE);
  const res = await page.goto(url);
  await ready(page, testInfo);
  expect(await page.title()).toContain("</title><script>");
  await expect(page.getByRole("heading", { name: HOSTILE })).toBeVisible();
  if (isHydrated(testInfo)) {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }
  const policy = res?.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(res?.headers()["x-content-type-options"]).toBe("nosniff");
  expect(dialogs).toEqual([]);
  expect(violations).toEqual([]);
});

test("the page policy lets the WASM client hydrate", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "only meaningful with JavaScript on");
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const res = await page.goto("/login");
  const policy = res?.headers()["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce, policy).toBeTruthy();
  await expect(page.locator("html[data-hydrated=true]")).toHaveCount(1);
  // Every script element of the page carries this response's nonce.
  const nonces = await page.locator("script").evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).nonce));
  expect(nonces.length).toBeGreaterThan(0);
  for (const n of nonces) expect(n).toBe(nonce);
  expect(errors).toEqual([]);
});
